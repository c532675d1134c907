package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The one-click unsubscribe link's token is its credential: opening the
// page, posting it, a wrong token and a path no route matches leave no
// token in any log line. The access log names the route pattern instead
// of the path, and never a client-chosen method. Guards middleware.go
// AccessLog and Recover.
func TestAccessLogNamesRoutesNotTokens(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(nil)
	token := bravoToken(t, w)
	const unmatched = "no-route-token-Zq81xv"
	from := len(w.logs.String()) // the world's own set-up is logged too

	res, body := a.raw("GET", "/u/"+token, "bravo.example.test", "", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, body = a.raw("POST", "/u/"+token+"?utm=q-secret-Zq81xv", "bravo.example.test", oneClick, "application/x-www-form-urlencoded", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, _ = a.raw("POST", "/u/"+token[:40], "bravo.example.test", oneClick, "application/x-www-form-urlencoded", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = a.raw("GET", "/nowhere/"+unmatched, "bravo.example.test", "", "", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = a.raw("X-"+unmatched, "/u/"+token, "bravo.example.test", "", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)

	logs := w.logs.String()[from:]
	for _, secret := range []string{token, token[:40], "q-secret-Zq81xv", unmatched} {
		assert.NotContains(t, logs, secret, "a log line carries a credential from the URL")
	}
	var routes []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] != "request" {
			continue
		}
		assert.NotContains(t, rec, "path", "the access log names no raw path")
		route, _ := rec["route"].(string)
		routes = append(routes, rec["method"].(string)+" "+route)
	}
	assert.Equal(t, []string{"GET /u/{token}", "POST /u/{token}", "POST /u/{token}", "GET unmatched", "OTHER unmatched"}, routes)
}
