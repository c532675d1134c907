package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// appendAlpha appends events to alpha's log directly, as a test fixture.
func appendAlpha(t *testing.T, w *matrixWorld, evs ...ports.AuditEvent) {
	t.Helper()
	err := w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for _, e := range evs {
			if _, err := tx.Audit().Append(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func auditEvent(actor, action, target string, at time.Time) ports.AuditEvent {
	return ports.AuditEvent{ID: ports.NewEventID(), Time: at, Actor: actor, Action: action, Target: target, Outcome: ports.OutcomeSuccess}
}

type auditPage struct {
	Events []audit.Record `json:"events"`
	Next   string         `json:"next_cursor"`
}

// TestAuditSearch (AUD-6) over HTTP: filters and keyset pages as an
// Owner; the pages cover exactly the matching events, newest first.
func TestAuditSearch(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var evs []ports.AuditEvent
	for i := 0; i < 25; i++ {
		actor := "user:ann"
		if i%2 == 1 {
			actor = "user:cal"
		}
		evs = append(evs, auditEvent(actor, []string{"quote.sent", "quote.accepted", "quoteline.added"}[i%3], "quote:7", base.Add(time.Duration(i)*time.Minute)))
	}
	appendAlpha(t, w, evs...)
	owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)

	q := url.Values{"actor": {"user:ann"}, "action": {"quote.*"}, "since": {base.Add(2 * time.Minute).Format(time.RFC3339)}, "limit": {"2"}}
	var got []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		res := a.send("GET", "/audit?"+q.Encode(), "alpha", owner, "", "")
		body := readBody(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		var p auditPage
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		for _, r := range p.Events {
			got = append(got, r.ID)
			assert.Equal(t, "user:ann", r.Actor)
			assert.True(t, strings.HasPrefix(r.Action, "quote."), r.Action)
			assert.False(t, r.Time.Before(base.Add(2*time.Minute)))
		}
		if p.Next == "" {
			break
		}
		q.Set("cursor", p.Next)
	}
	var want []string
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Actor == "user:ann" && strings.HasPrefix(e.Action, "quote.") && !e.Time.Before(base.Add(2*time.Minute)) {
			want = append(want, e.ID.String())
		}
	}
	require.Equal(t, want, got, "every match once, newest first")

	for _, bad := range []string{"since=yesterday", "action=quote*", "order=sideways", "cursor=-3", "limit=0",
		"since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z"} {
		res := a.send("GET", "/audit?"+bad, "alpha", owner, "", "")
		body := readBody(t, res)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad+": "+body)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/problem+json", bad)
	}
}

// TestAuditExport (AUD-6, AUD-3): the JSON Lines export holds the shop's
// chain, verifiable by a third party from the file alone; the export is
// audited before it starts and after it ends; CSV defuses formulas.
func TestAuditExport(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	appendAlpha(t, w, auditEvent("user:ann", "=HYPERLINK(\"http://evil.test\")", "quote:1", at),
		auditEvent("user:ann", "quote.sent", "-2+3", at))
	admin, _ := w.signIn(a, "alpha", w.byRole[ports.RoleAdmin].Email)

	res := a.send("GET", "/audit/export?format=jsonl", "alpha", admin, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/jsonl; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
	var recs []audit.Record
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		recs = append(recs, r)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, recs)

	// Re-verify the chain from the export alone, as an outsider would.
	var prev string
	for i, r := range recs {
		require.Equal(t, int64(i+1), r.Seq, "the export starts at seq 1 with no gap")
		id, err := uuid.Parse(r.ID)
		require.NoError(t, err)
		e := ports.AuditEvent{ID: ports.EventID{UUID: id}, ShopID: w.alpha.ID, Seq: r.Seq, Time: r.Time, Actor: r.Actor, Impersonator: r.Impersonator,
			Action: r.Action, Target: r.Target, Outcome: r.Outcome, Before: r.Before, After: r.After, IP: r.IP,
			UserAgent: r.UserAgent, RequestID: r.RequestID}
		if prev != "" {
			require.Equal(t, prev, r.PrevHash, "event %d links to the one before", r.Seq)
		}
		e.PrevHash = mustHash(t, r.PrevHash)
		require.Equal(t, r.Hash, e.ChainHash().String(), "event %d hashes to its stored hash", r.Seq)
		prev = r.Hash
	}
	last := recs[len(recs)-1]
	require.Equal(t, "audit.exported", last.Action, "the export ends with its own attempted event")
	require.Equal(t, ports.OutcomeAttempted, last.Outcome)

	log := alphaEvents(t, w, "audit.exported")
	require.Len(t, log, 2)
	assert.Equal(t, ports.OutcomeAttempted, log[0].Outcome)
	assert.Equal(t, ports.OutcomeSuccess, log[1].Outcome)
	assert.Equal(t, "user:"+w.byRole[ports.RoleAdmin].ID.String(), log[1].Actor)
	var attempt struct {
		Format string `json:"format"`
	}
	require.NoError(t, json.Unmarshal(log[0].After, &attempt))
	assert.Equal(t, "jsonl", attempt.Format)
	assert.Equal(t, last.ID, log[0].ID.String(), "the export's last line is its own attempt")
	var outcome struct {
		Attempt string `json:"attempt"`
	}
	require.NoError(t, json.Unmarshal(log[1].After, &outcome))
	assert.Equal(t, log[0].ID.String(), outcome.Attempt, "the outcome names its attempt")

	res = a.send("GET", "/audit/export?format=csv&target=-2%2B3", "alpha", admin, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows, err := csv.NewReader(res.Body).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "header and the one matching event")
	assert.Equal(t, "seq", rows[0][0])
	assert.Equal(t, "'-2+3", rows[1][6], "a formula-like cell is defused")
	res = a.send("GET", "/audit/export?format=csv&action="+url.QueryEscape(`=HYPERLINK("http://evil.test")`), "alpha", admin, "", "")
	rows, err = csv.NewReader(res.Body).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.True(t, strings.HasPrefix(rows[1][5], "'="), rows[1][5])

	res = a.send("GET", "/audit/export?format=xml", "alpha", admin, "", "")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
}

// TestAuditExportAuditsFirst (AUD-3): when the attempted event cannot be
// written, nothing is exported.
func TestAuditExportAuditsFirst(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.apiOver(failExportAudit{w.raw}, access.DefaultPolicy())
	owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
	res := a.send("GET", "/audit/export", "alpha", owner, "", "")
	body := readBody(t, res)
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, body)
	require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json")
	require.NotContains(t, body, "auth.session.created", "no event was served")
	require.Empty(t, alphaEvents(t, w, "audit.exported"))
}

func mustHash(t *testing.T, s string) ports.AuditHash {
	t.Helper()
	if s == "" {
		return ports.AuditHash{}
	}
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	h, err := ports.AuditHashFromBytes(b)
	require.NoError(t, err)
	return h
}

func alphaEvents(t *testing.T, w *matrixWorld, action string) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	err := w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Audit().Search(ctx, ports.AuditFilter{Action: action, Limit: 1000})
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

// failExportAudit is a store whose audit log refuses "audit.exported".
type failExportAudit struct{ ports.Store }

type failExportTx struct{ ports.ShopTx }

type failExportRepo struct{ ports.AuditRepo }

func (s failExportAudit) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error { return fn(ctx, failExportTx{tx}) }, opts...)
}

func (t failExportTx) Audit() ports.AuditRepo { return failExportRepo{t.ShopTx.Audit()} }

func (r failExportRepo) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if e.Action == "audit.exported" {
		return ports.AuditEvent{}, errors.New("audit log unavailable")
	}
	return r.AuditRepo.Append(ctx, e)
}
