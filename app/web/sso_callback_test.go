package web_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

// TestSSOCallbackRefusalIsAPage: the API's SSO callback refused — no
// state cookie, or the IdP's own refusal — answers the pages' HTML error
// page with their headers and a link to sign in, not a problem document
// and not a redirect that would hide why.
func TestSSOCallbackRefusalIsAPage(t *testing.T) {
	s := newSite(t, web.Options{})
	for name, query := range map[string]string{
		"no state cookie":    "?code=c&state=s",
		"the IdP refused it": "?error=access_denied&state=s",
	} {
		t.Run(name, func(t *testing.T) {
			res := s.do(t, http.MethodGet, web.SSOCallbackPath+query, "", "", "", nil)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, res.StatusCode, string(body))
			require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"), string(body))
			require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
			require.Contains(t, string(body), `<a href="/signin">Sign in</a>`)
			require.Empty(t, res.Header.Get("Location"))
		})
	}
}
