package web_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

// TestSSOCallbackRefusalIsAPage: the API's SSO callback and a platform
// OIDC provider's callback refused — no state cookie, the IdP's own
// refusal, a provider that does not exist — answer the pages' HTML error
// page with their headers (and, for a 401, a link to sign in), not a problem document
// and not a redirect that would hide why.
func TestSSOCallbackRefusalIsAPage(t *testing.T) {
	s := newSite(t, web.Options{})
	for name, c := range map[string]struct {
		target string
		status int
	}{
		"no state cookie":            {web.SSOCallbackPath + "?code=c&state=s", http.StatusUnauthorized},
		"the IdP refused it":         {web.SSOCallbackPath + "?error=access_denied&state=s", http.StatusUnauthorized},
		"oidc: the provider refused": {"/auth/oidc/example/callback?error=access_denied&state=s", http.StatusUnauthorized},
		"oidc: no such provider":     {"/auth/oidc/example/callback?code=c&state=s", http.StatusNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			res := s.do(t, http.MethodGet, c.target, "", "", "", nil)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, c.status, res.StatusCode, string(body))
			require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"), string(body))
			require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
			if c.status == http.StatusUnauthorized {
				require.Contains(t, string(body), `<a href="/signin">Sign in</a>`)
			}
			require.Empty(t, res.Header.Get("Location"))
		})
	}
}
