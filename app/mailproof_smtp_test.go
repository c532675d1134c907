package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Canary passwords of the mailbox-proof mail test.
const (
	samPassword    = "canary-sam-Pa55word-c0de"
	annNewPassword = "canary-ann-N3wPa55word-b1e5"
)

// TestMailProofArrivesBySMTPAndLeaksNothing is issue 16's acceptance 3 for
// the sign-up verification and the password reset (AUTH-16, AUTH-17,
// AUTH-20): with STOCKADE_EMAIL_PROVIDER=smtp both mails arrive by SMTP,
// both links work once, and no password, token or session cookie appears
// in any log line (debug level) or answer body.
func TestMailProofArrivesBySMTPAndLeaksNothing(t *testing.T) {
	for _, backend := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			w := startMailWorld(t, backend.postgres, false)
			w.sink.Secret("sam's password", samPassword)
			w.sink.Secret("ann's new password", annNewPassword)

			res, _ := w.call(http.MethodPost, "/auth/signup", map[string]string{"email": "sam@example.com", "name": "Sam", "password": samPassword}, "")
			require.Equal(t, http.StatusAccepted, res.StatusCode)
			link, token := w.lastLink(1, "sam@example.com", "the sign-up verification token")
			assert.Equal(t, "stockade.test", link.Host, "the link is on the platform's public host")
			assert.Equal(t, "/signup/verify", link.Path)
			// The browser opens the link's page, whose form holds the token
			// (so its body is not a leak); the server's log must not keep it.
			req, err := http.NewRequest(http.MethodGet, w.base+link.RequestURI(), nil)
			require.NoError(t, err)
			req.Host = "stockade.test"
			page, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, page.Body.Close())
			require.Equal(t, http.StatusOK, page.StatusCode)
			res, body := w.call(http.MethodPost, "/auth/verify", map[string]string{"token": token}, "")
			require.Equal(t, http.StatusCreated, res.StatusCode, "the mailed link creates the account")
			assert.Contains(t, body, "sam@example.com")
			res, _ = w.call(http.MethodPost, "/auth/verify", map[string]string{"token": token}, "")
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "once")

			res, _ = w.call(http.MethodPost, "/auth/password-reset", map[string]string{"email": "ann@example.com"}, "")
			require.Equal(t, http.StatusAccepted, res.StatusCode)
			link, token = w.lastLink(2, "ann@example.com", "the reset token")
			assert.Equal(t, "/password-reset/new", link.Path)
			res, _ = w.call(http.MethodPost, "/auth/password-reset/confirm", map[string]string{"token": token, "password": annNewPassword}, "")
			require.Equal(t, http.StatusNoContent, res.StatusCode, "the mailed link resets the password")
			res, _ = w.call(http.MethodPost, "/auth/signin", map[string]string{"email": "ann@example.com", "password": annPassword}, "")
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the old password is gone")
			res, _ = w.call(http.MethodPost, "/auth/signin", map[string]string{"email": "ann@example.com", "password": annNewPassword}, "")
			require.Equal(t, http.StatusOK, res.StatusCode, "the new password signs in")
			sessionOf(t, w, res, "ann's session cookie")

			assert.NotContains(t, w.sink.Text(), "mail (console adapter", "nothing went to the console")
		})
	}
}
