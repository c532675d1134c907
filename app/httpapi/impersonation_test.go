package httpapi_test

// AUD-3 and AUD-5 over HTTP: platform operators, their sign-in, and the
// impersonation flow end to end — start with a reason, the hand-off to the
// shop's host, acting, the header and the banner, expiry at one hour on a
// controllable clock, refusal after, restart and exit — with the audit
// rows of every step, each written before the action it describes.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

const (
	platformHost     = "example.test"
	operatorPassword = "operator-Lantern-kettle-31"
)

// hcall is one request to the API.
type hcall struct {
	method, target, host string
	body, contentType    string
	accept               string
	session, operator    string // cookie values
}

func (a *matrixAPI) do(c hcall) *http.Response { return a.doWith(c, nil) }

// doWith is do with a last change to the request.
func (a *matrixAPI) doWith(c hcall, edit func(*http.Request)) *http.Response {
	var req *http.Request
	if c.body != "" {
		req = httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
	} else {
		req = httptest.NewRequest(c.method, c.target, nil)
	}
	req.Host = c.host
	req.RemoteAddr = "198.51.100.7:4000"
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: c.session})
	}
	if c.operator != "" {
		req.AddCookie(&http.Cookie{Name: auth.OperatorCookieName, Value: c.operator})
	}
	if edit != nil {
		edit(req)
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	return rec.Result()
}

// newOperator creates an operator the way the CLI does (`stockade
// operator create --totp`: with a TOTP factor, AUTH-18) and signs them in
// on the platform's host with a code, returning the operator and the
// cookie of an AAL2 session.
func newOperator(t *testing.T, a *matrixAPI, email string) (ports.Operator, string) {
	t.Helper()
	op, err := a.auth.CreateOperator(context.Background(), email, "Olga Ops", operatorPassword)
	require.NoError(t, err)
	en, err := a.auth.EnrolOperatorTOTPByEmail(context.Background(), email)
	require.NoError(t, err)
	a.w.totp.add(email, en.Secret)
	return op, operatorSignIn(t, a, email)
}

// operatorSignIn signs the operator in with the password and, when the
// world holds the operator's secret, the current code.
func operatorSignIn(t *testing.T, a *matrixAPI, email string) string {
	t.Helper()
	in := map[string]string{"email": email, "password": operatorPassword}
	if a.w.totp.has(email) {
		in["code"] = a.w.totp.code(t, a.w.clock, email)
	}
	res := a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: jsonOf(t, in), contentType: "application/json"})
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	c := setCookie(t, res, auth.OperatorCookieName)
	require.True(t, c.Secure && c.HttpOnly, "operator cookie flags")
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Empty(t, c.Domain, "host-only")
	return c.Value
}

type startJSON struct {
	ImpersonationID string    `json:"impersonation_id"`
	Shop            string    `json:"shop"`
	UserID          string    `json:"user_id"`
	ExpiresAt       time.Time `json:"expires_at"`
	Code            string    `json:"code"`
	CodeExpiresAt   time.Time `json:"code_expires_at"`
	EnterURL        string    `json:"enter_url"`
}

func startImpersonation(t *testing.T, a *matrixAPI, opCookie, shop, user, reason string) (*http.Response, startJSON) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"shop": shop, "user": user, "reason": reason})
	res := a.do(hcall{method: "POST", target: "/operator/impersonations", host: platformHost, body: string(b), contentType: "application/json", operator: opCookie})
	var out startJSON
	if res.StatusCode == http.StatusCreated {
		decodeBody(t, res, &out)
		a.w.canary.Secret("an impersonation hand-off code", out.Code)
	}
	return res, out
}

func enter(a *matrixAPI, slug, code string) *http.Response {
	return a.do(hcall{method: "POST", target: "/auth/impersonation/enter", host: slug + ".example.test", body: `{"code":"` + code + `"}`, contentType: "application/json"})
}

// shopLog is a shop's whole audit log in order.
func shopLog(t *testing.T, w *matrixWorld, shop ports.ShopID) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

// since returns the events after seq.
func since(log []ports.AuditEvent, seq int64) []ports.AuditEvent {
	var out []ports.AuditEvent
	for _, e := range log {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

func head(log []ports.AuditEvent) int64 {
	if len(log) == 0 {
		return 0
	}
	return log[len(log)-1].Seq
}

// step is what an audit event must say, in order.
type step struct {
	action  string
	outcome ports.Outcome
}

func requireSteps(t *testing.T, evs []ports.AuditEvent, want ...step) {
	t.Helper()
	got := make([]step, len(evs))
	for i, e := range evs {
		got[i] = step{e.Action, e.Outcome}
	}
	require.Equal(t, want, got)
	for i := 1; i < len(evs); i++ {
		require.Greater(t, evs[i].Seq, evs[i-1].Seq)
	}
}

// TestImpersonationEndToEnd is acceptance 3 of issue 6 (AUD-3, AUD-5), on
// SQLite and on Postgres as the application role.
func TestImpersonationEndToEnd(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			admin := w.byRole[ports.RoleAdmin]
			op, opCookie := newOperator(t, a, "olga@ops.example.test")
			opActor := "operator:" + op.ID.String()
			userActor := "user:" + admin.ID.String()
			const reason = "Ticket #4521: the customer cannot rename their shop"

			// A start without a reason is refused before anything is written.
			mark := head(shopLog(t, w, w.alpha.ID))
			res, _ := startImpersonation(t, a, opCookie, "alpha", admin.Email, "   ")
			p := problemOf(t, res, http.StatusBadRequest)
			require.Equal(t, "reason", p.Errors[0].Field)
			res, _ = startImpersonation(t, a, opCookie, "alpha", admin.Email, strings.Repeat("x", 501))
			problemOf(t, res, http.StatusBadRequest)
			res = a.do(hcall{method: "POST", target: "/operator/impersonations", host: platformHost, operator: opCookie, contentType: "application/json",
				body: `{"shop":"alpha","user":"` + admin.Email + `","reason":"longer please","ttl":"10h"}`})
			problemOf(t, res, http.StatusBadRequest) // no field sets the length
			require.Empty(t, since(shopLog(t, w, w.alpha.ID), mark))

			// Start (with reason): the attempt, then its outcome.
			started := w.clock.Now()
			res, st := startImpersonation(t, a, opCookie, "alpha", admin.Email, reason)
			require.Equal(t, http.StatusCreated, res.StatusCode)
			require.Equal(t, admin.ID.String(), st.UserID)
			require.True(t, st.ExpiresAt.Equal(started.Add(time.Hour)), "one hour from the start: %s", st.ExpiresAt)
			enterURL, err := url.Parse(st.EnterURL)
			require.NoError(t, err)
			require.Equal(t, "alpha.example.test", enterURL.Host)
			require.NotContains(t, st.EnterURL, st.Code, "the code is never in a URL")
			evs := since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs, step{"impersonation.start", ports.OutcomeAttempted}, step{"impersonation.start", ports.OutcomeSuccess})
			require.Equal(t, opActor, evs[0].Actor)
			require.Equal(t, "user:"+admin.ID.String(), evs[0].Target)
			require.Contains(t, string(evs[0].After), reason)
			require.Contains(t, string(evs[0].After), st.ImpersonationID)
			require.Contains(t, string(evs[1].After), evs[0].ID.String(), "the outcome names its attempt")

			// The hand-off: the code works once, on its own shop's host only.
			res = enter(a, "bravo", st.Code)
			problemOf(t, res, http.StatusUnauthorized)
			mark = head(shopLog(t, w, w.alpha.ID))
			res = enter(a, "alpha", st.Code)
			body := readBody(t, res)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			cookie := sessionCookie(t, res)
			wantHeader := fmt.Sprintf("operator=%s, expires=%s", op.ID, started.Add(time.Hour).UTC().Format(time.RFC3339))
			require.Equal(t, wantHeader, res.Header.Get(httpapi.ImpersonationHeader))
			res = enter(a, "alpha", st.Code)
			problemOf(t, res, http.StatusUnauthorized)
			evs = since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs, step{"impersonation.entered", ports.OutcomeSuccess})
			require.Equal(t, userActor, evs[0].Actor)
			require.Equal(t, opActor, evs[0].Impersonator)

			// Reading: the header marks every answer. GET
			// /auth/impersonation is JSON, even for a browser asking for
			// HTML: the banner is app/web's (web.Banner).
			res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: cookie})
			require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
			require.Equal(t, wantHeader, res.Header.Get(httpapi.ImpersonationHeader))
			res = a.do(hcall{method: "GET", target: "/auth/impersonation", host: "alpha.example.test", session: cookie, accept: "text/html"})
			page := readBody(t, res)
			require.Equal(t, http.StatusOK, res.StatusCode, page)
			require.Equal(t, "application/json", res.Header.Get("Content-Type"))
			require.NotContains(t, page, "<")
			require.Contains(t, page, op.ID.String())
			require.Equal(t, wantHeader, res.Header.Get(httpapi.ImpersonationHeader))
			res = a.do(hcall{method: "GET", target: "/auth/impersonation", host: "alpha.example.test", session: cookie})
			info := readBody(t, res)
			require.Contains(t, info, reason)
			require.Contains(t, info, op.Email)

			// Acting: the request's audit event commits before the change's
			// own event, and its outcome after; the change names the
			// operator as impersonator.
			mark = head(shopLog(t, w, w.alpha.ID))
			res = a.do(hcall{method: "PATCH", target: "/shop", host: "alpha.example.test", session: cookie, body: `{"name":"Alpha Renamed By Support"}`, contentType: "application/json"})
			require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
			require.Equal(t, wantHeader, res.Header.Get(httpapi.ImpersonationHeader))
			evs = since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs,
				step{"impersonation.request", ports.OutcomeAttempted},
				step{"shop.renamed", ports.OutcomeSuccess},
				step{"impersonation.request", ports.OutcomeSuccess})
			for _, e := range evs {
				require.Equal(t, userActor, e.Actor, e.Action)
				require.Equal(t, opActor, e.Impersonator, e.Action)
			}
			require.Contains(t, string(evs[0].After), "PATCH /shop")

			// A refused act is audited too, as a failure by class.
			mark = head(shopLog(t, w, w.alpha.ID))
			res = a.do(hcall{method: "PATCH", target: "/members/" + w.orgOwner.ID.String(), host: "alpha.example.test", session: cookie, body: `{"role":"viewer"}`, contentType: "application/json"})
			problemOf(t, res, http.StatusForbidden)
			evs = since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs, step{"impersonation.request", ports.OutcomeAttempted}, step{"impersonation.request", ports.OutcomeFailure})
			require.Contains(t, string(evs[1].After), `"error":"forbidden"`)

			// No other route: org, HQ and account-wide acts are refused
			// under impersonation.
			for _, c := range []hcall{
				{method: "GET", target: "/org/shops"},
				{method: "GET", target: "/hq/shops/bravo/members"},
				{method: "POST", target: "/orgs", body: `{"name":"Ops Org","slug":"ops-org"}`, contentType: "application/json"},
				{method: "POST", target: "/auth/password", body: `{"current_password":"` + matrixPassword + `","new_password":"support-Sets-this-77"}`, contentType: "application/json"},
			} {
				c.host, c.session = "alpha.example.test", cookie
				res := a.do(c)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s: %s", c.method, c.target, readBody(t, res))
			}

			// Use does not extend it: 59 minutes on, the same end.
			w.clock.Advance(59 * time.Minute)
			res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: cookie})
			require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
			require.Equal(t, wantHeader, res.Header.Get(httpapi.ImpersonationHeader), "never renewed")

			// Expiry at one hour: refused, once audited, and refused after.
			w.clock.Advance(time.Minute)
			mark = head(shopLog(t, w, w.alpha.ID))
			res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: cookie})
			problemOf(t, res, http.StatusUnauthorized)
			require.Empty(t, res.Header.Get(httpapi.ImpersonationHeader))
			res = a.do(hcall{method: "PATCH", target: "/shop", host: "alpha.example.test", session: cookie, body: `{"name":"Too Late"}`, contentType: "application/json"})
			problemOf(t, res, http.StatusUnauthorized)
			evs = since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs, step{"impersonation.expired", ports.OutcomeDenied})
			require.Equal(t, opActor, evs[0].Impersonator)
			shop, err := a.tenancy.Shop(access.System(context.Background(), w.alpha.ID, w.alpha.OrgID, "test"))
			require.NoError(t, err)
			require.Equal(t, "Alpha Renamed By Support", shop.Name, "nothing ran after expiry")

			// Restart: a new, audited start; then exit ends it (audited).
			// The operator's own session has idled out meanwhile (30
			// minutes): they sign in again first.
			res, _ = startImpersonation(t, a, opCookie, "alpha", admin.ID.String(), "Ticket #4521: follow-up")
			problemOf(t, res, http.StatusUnauthorized)
			opCookie = operatorSignIn(t, a, op.Email)
			mark = head(shopLog(t, w, w.alpha.ID))
			res, st2 := startImpersonation(t, a, opCookie, "alpha", admin.ID.String(), "Ticket #4521: follow-up")
			require.Equal(t, http.StatusCreated, res.StatusCode)
			require.NotEqual(t, st.ImpersonationID, st2.ImpersonationID)
			res = enter(a, "alpha", st2.Code)
			require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
			cookie2 := sessionCookie(t, res)
			res = a.do(hcall{method: "POST", target: "/auth/impersonation/exit", host: "alpha.example.test", session: cookie2})
			require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
			require.Equal(t, -1, setCookie(t, res, auth.SessionCookieName).MaxAge, "the cookie is cleared")
			res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: cookie2})
			problemOf(t, res, http.StatusUnauthorized)
			evs = since(shopLog(t, w, w.alpha.ID), mark)
			requireSteps(t, evs,
				step{"impersonation.start", ports.OutcomeAttempted}, step{"impersonation.start", ports.OutcomeSuccess},
				step{"impersonation.entered", ports.OutcomeSuccess},
				step{"impersonation.request", ports.OutcomeAttempted}, step{"impersonation.ended", ports.OutcomeSuccess}, step{"impersonation.request", ports.OutcomeSuccess})
			require.Contains(t, string(evs[3].After), "POST /auth/impersonation/exit")
			require.Equal(t, opActor, evs[4].Impersonator)

			// The chain is intact through all of it.
			verifyChain(t, w, w.alpha.ID)
			require.Equal(t, bravoAudit(t, w), len(shopLog(t, w, w.bravo.ID)), "bravo's log saw none of it")
		})
	}
}

// bravoAudit is the number of events the world's setup left in bravo.
func bravoAudit(t *testing.T, w *matrixWorld) int {
	t.Helper()
	n := 0
	for _, e := range shopLog(t, w, w.bravo.ID) {
		if !strings.HasPrefix(e.Action, "impersonation.") {
			n++
		}
	}
	return n
}

func verifyChain(t *testing.T, w *matrixWorld, shop ports.ShopID) {
	t.Helper()
	log := shopLog(t, w, shop)
	var prev ports.AuditHash
	for i, e := range log {
		require.Equal(t, int64(i+1), e.Seq)
		if e.Hash.IsZero() {
			continue
		}
		require.Equal(t, prev, e.PrevHash, "event %d links to the one before", e.Seq)
		require.Equal(t, e.ChainHash(), e.Hash, "event %d", e.Seq)
		prev = e.Hash
	}
}
