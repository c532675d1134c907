package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// TestAuditExportSurvivesABadUserAgent (issue 16, low): a client that
// signs in with a User-Agent that is not UTF-8 must not make the shop's
// JSON Lines export unverifiable. JSON cannot carry those bytes, so the
// boundary replaces them before they reach the log.
func TestAuditExportSurvivesABadUserAgent(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	const badUA = "Mozilla/5.0 \xff\xfe(\xc3 evil"

	req := httptest.NewRequest(http.MethodPost, "/auth/signin", strings.NewReader(credentials(w.byRole[ports.RoleTech].Email, matrixPassword)))
	req.Host = "alpha.example.test"
	req.RemoteAddr = "192.0.2.78:5000"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", badUA)
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "the sign-in itself still works: %s", rec.Body.String())

	admin, _ := w.signIn(a, "alpha", w.byRole[ports.RoleAdmin].Email)
	res := a.send("GET", "/audit/export?format=jsonl", "alpha", admin, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	var prev string
	seen := false
	for n := int64(1); sc.Scan(); n++ {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		require.Equal(t, n, r.Seq)
		id, err := uuid.Parse(r.ID)
		require.NoError(t, err)
		e := ports.AuditEvent{ID: ports.EventID{UUID: id}, ShopID: w.alpha.ID, Seq: r.Seq, Time: r.Time, Actor: r.Actor, Impersonator: r.Impersonator,
			Action: r.Action, Target: r.Target, Outcome: r.Outcome, Before: r.Before, After: r.After, IP: r.IP,
			UserAgent: r.UserAgent, RequestID: r.RequestID, PrevHash: mustHash(t, r.PrevHash)}
		require.Equal(t, prev, r.PrevHash, "event %d links to the one before", r.Seq)
		require.Equal(t, r.Hash, e.ChainHash().String(), "event %d (user agent %q) re-verifies from the export", r.Seq, r.UserAgent)
		prev = r.Hash
		if strings.HasPrefix(r.UserAgent, "Mozilla/5.0 ") {
			seen = true
			assert.True(t, utf8.ValidString(r.UserAgent))
			assert.Equal(t, "Mozilla/5.0 \uFFFD(\uFFFD evil", r.UserAgent, "invalid bytes are replaced, the rest kept")
		}
	}
	require.NoError(t, sc.Err())
	assert.True(t, seen, "the sign-in was audited with its user agent")
}
