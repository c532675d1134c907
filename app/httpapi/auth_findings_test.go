package httpapi_test

// Regression tests for defects the attack tests found. Each failed before
// its fix and names the line that fixed it.

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// AUTH-2, the answer half (the time half is
// TestSignInTimingDoesNotRevealAccounts): unknown e-mail, wrong password, no
// password, and the right password in a shop the user is not a member of
// all get the same 401 problem. Guards signin.go SignIn returning
// errBadCredentials unwrapped after the membership check; wrapped, the last
// case answered "sign in: e-mail or password is wrong" and told a guesser
// the password was right.
func TestSignInFailuresLookAlike(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ask := func(email, pw string) problemJSON {
		p := problemOf(t, h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials(email, pw)}), http.StatusUnauthorized)
		p.RequestID = ""
		return p
	}
	want := ask("nobody@example.test", "whatever-Pass-123")
	assert.Equal(t, want, ask("ann@example.test", "whatever-Pass-123"), "wrong password")
	assert.Equal(t, want, ask("nora@example.test", noraPassword), "right password, not a member")
	require.NoError(t, h.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "nopass@example.test"})
		return err
	}))
	assert.Equal(t, want, ask("nopass@example.test", "whatever-Pass-123"), "account without a password")
}

// A cookie that rotation has retired must have no power left (AUTH-6: a
// stolen cookie cannot outlive revocation). Guards session.go mintSession,
// which ends the session a presented cookie names only when the cookie's
// token still matches the stored hash; before that check, a thief holding
// a retired cookie could sign in as anyone in the shop, present it, and
// end the victim's current session.
func TestRetiredCookieCannotEndTheSessionItOnceNamed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stolen, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	res := h.serve(call{method: http.MethodPost, path: "/auth/password", cookie: stolen,
		body: `{"current_password":"` + annPassword + `","new_password":"ann-New-harbour-2031"}`})
	require.Equal(t, http.StatusOK, res.StatusCode)
	current := sessionCookie(t, res)
	require.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", stolen), "rotation retired the stolen cookie")

	h.signIn("acme.example.test", "tom@example.test", tomPassword, func(c *call) { c.cookie = stolen })
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", current), "the victim's current session was ended by a retired cookie")
}
