package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

func bravoEvents(t *testing.T, w *matrixWorld, action string) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	err := w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

// TestHQAccess (TEN-6): an org admin signed in on alpha reads bravo's
// members through /hq/shops/bravo, acting as an Admin, and each request
// leaves an "hq.access" event naming them in bravo's own log; an owner-only
// act stays refused.
func TestHQAccess(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	cookie, _ := w.signIn(a, "alpha", w.hqAdmin.Email)
	require.Empty(t, bravoEvents(t, w, "hq.access"))

	res := a.send("GET", "/hq/shops/bravo/members", "alpha", cookie, "", "")
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, w.bob.Email, "bravo's members are served")
	evs := bravoEvents(t, w, "hq.access")
	require.Len(t, evs, 2, "the attempt, then the outcome (AUD-3)")
	require.Equal(t, ports.OutcomeAttempted, evs[0].Outcome)
	require.Equal(t, "user:"+w.hqAdmin.ID.String(), evs[0].Actor)
	require.Contains(t, string(evs[0].After), "/hq/shops/bravo/members")
	require.Contains(t, string(evs[0].After), w.alpha.ID.String(), "the event names the home shop")
	require.Equal(t, ports.OutcomeSuccess, evs[1].Outcome)
	require.Greater(t, evs[1].Seq, evs[0].Seq)
	require.Contains(t, string(evs[1].After), evs[0].ID.String(), "the outcome names its attempt")

	// HQ acts as Admin, never Owner: making an owner is refused (and the
	// attempt is still audited as HQ access first, its failure after).
	res = a.send("PATCH", "/hq/shops/bravo/members/"+w.bob.ID.String(), "alpha", cookie, `{"role":"owner"}`, "application/json")
	require.Equal(t, http.StatusForbidden, res.StatusCode, readBody(t, res))
	evs = bravoEvents(t, w, "hq.access")
	require.Len(t, evs, 4)
	require.Equal(t, ports.OutcomeAttempted, evs[2].Outcome)
	require.Equal(t, ports.OutcomeFailure, evs[3].Outcome)
	require.Contains(t, string(evs[3].After), `"error":"forbidden"`)

	// A shop of another org is not found through HQ.
	_, _, err := a.tenancy.CreateOrg(access.With(context.Background(), access.Scope{System: "test"}), tenancy.NewOrg{Name: "Elsewhere", Slug: "elsewhere"})
	require.NoError(t, err)
	res = a.send("GET", "/hq/shops/elsewhere/members", "alpha", cookie, "", "")
	require.Equal(t, http.StatusNotFound, res.StatusCode, readBody(t, res))
}

// failHQAudit is a store whose audit log refuses "hq.access" events.
type failHQAudit struct{ ports.Store }

type failHQTx struct{ ports.ShopTx }

type failHQRepo struct{ ports.AuditRepo }

func (s failHQAudit) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error { return fn(ctx, failHQTx{tx}) }, opts...)
}

func (t failHQTx) Audit() ports.AuditRepo { return failHQRepo{t.ShopTx.Audit()} }

func (r failHQRepo) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if e.Action == "hq.access" {
		return ports.AuditEvent{}, errors.New("audit log unavailable")
	}
	return r.AuditRepo.Append(ctx, e)
}

// TestHQAccessAuditsFirst (AUD-3): when the hq.access event cannot be
// written, no data is served.
func TestHQAccessAuditsFirst(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.apiOver(failHQAudit{w.raw}, access.DefaultPolicy())
	cookie, _ := w.signIn(a, "alpha", w.hqAdmin.Email)
	res := a.send("GET", "/hq/shops/bravo/members", "alpha", cookie, "", "")
	body := readBody(t, res)
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, body)
	require.NotContains(t, body, w.bob.Email)
	require.Empty(t, bravoEvents(t, w, "hq.access"))
}

// TestInvitationFlow (TEN-9) over HTTP: an owner invites; the GET of the
// link changes nothing; the token used on another shop's host is refused;
// accepting on the right host creates the account and the membership with
// the invited role and signs the user in; the token then is spent.
func TestInvitationFlow(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
	res := a.send("POST", "/invitations", "alpha", owner, `{"email":"Newbie@Example.test","role":"tech"}`, "application/json")
	require.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))
	link, token := w.mailer.lastLink(t)
	require.Equal(t, "alpha.example.test", link.Host)
	require.Equal(t, "/invitation", link.Path, "the mailed link opens app/web's page")

	res = a.send("GET", "/invitations/accept?token="+token, "alpha", "", "", "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "a link mailed before the page: 303 to it")
	require.Equal(t, link.RequestURI(), res.Header.Get("Location"))

	accept := func(slug, tok string) *http.Response {
		return a.send("POST", "/invitations/accept", slug, "", `{"token":"`+tok+`","name":"New Bie","password":"newbie-Teapot-pass-5"}`, "application/json")
	}
	res = accept("bravo", token)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another shop's host: "+readBody(t, res))
	res = accept("alpha", token[:len(token)-2]+"AA")
	require.Equal(t, http.StatusNotFound, res.StatusCode, "a tampered token: "+readBody(t, res))
	_, err := a.auth.UserByEmail(context.Background(), "newbie@example.test")
	require.ErrorIs(t, err, ports.ErrNotFound, "no refused attempt created the account")

	res = accept("alpha", token)
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var s sessionJSON
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.Equal(t, "tech", s.Role)
	require.Equal(t, w.alpha.ID.String(), s.ShopID)
	cookie := sessionCookie(t, res)
	res = a.send("GET", "/auth/me", "alpha", cookie, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))

	res = accept("alpha", token)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "single use: "+readBody(t, res))
	res = a.send("GET", "/members", "alpha", owner, "", "")
	members := readBody(t, res)
	require.Equal(t, 1, strings.Count(members, "newbie@example.test"), members)
}
