package testinfra_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestStripeMockSmoke: the mock answers an authenticated create with a
// fresh ID, and refuses a request its OpenAPI specification does not
// allow, the way Stripe would.
func TestStripeMockSmoke(t *testing.T) {
	t.Parallel()
	sm := testinfra.StartStripeMock(t)
	post := func(path string, form url.Values) (*http.Response, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sm.URL+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.SetBasicAuth(sm.Key, "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res, body
	}
	res, a := post("/v1/customers", url.Values{"name": {"Acme"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, b := post("/v1/customers", url.Values{"name": {"Acme"}})
	assert.Regexp(t, `^cus_`, a["id"])
	assert.NotEqual(t, a["id"], b["id"], "each create gets a fresh ID")
	assert.Equal(t, "Acme", a["name"], "parameters are reflected")

	res, body := post("/v1/customers", url.Values{"no_such_param": {"x"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "%v", body)
}
