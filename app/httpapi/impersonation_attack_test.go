package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/auth/passwordpolicy"
	"github.com/stockadehq/stockade/ports"
)

// failAttempt is a store whose audit log refuses the "attempted" events of
// one action, and records whether anything else of the shop was written.
type failAttempt struct {
	ports.Store
	action string
}

type failAttemptTx struct {
	ports.ShopTx
	action string
}

type failAttemptRepo struct {
	ports.AuditRepo
	action string
}

func (s failAttempt) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, failAttemptTx{tx, s.action})
	}, opts...)
}

func (t failAttemptTx) Audit() ports.AuditRepo { return failAttemptRepo{t.ShopTx.Audit(), t.action} }

func (r failAttemptRepo) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if e.Action == r.action && e.Outcome == ports.OutcomeAttempted {
		return ports.AuditEvent{}, errors.New("audit log unavailable")
	}
	return r.AuditRepo.Append(ctx, e)
}

func impersonationsOf(t *testing.T, w *matrixWorld, shop ports.ShopID) []ports.Impersonation {
	t.Helper()
	var out []ports.Impersonation
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Impersonations().List(ctx, 1000)
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

// TestImpersonationAuditsFirst (AUD-3): when the "attempted" event cannot
// be written, the impersonation is not created, and a state-changing
// request under impersonation does not run.
func TestImpersonationAuditsFirst(t *testing.T) {
	w := newMatrixWorld(t, false)
	good := w.api(access.DefaultPolicy())
	admin := w.byRole[ports.RoleAdmin]
	_, opCookie := newOperator(t, good, "first@ops.example.test")

	noStart := w.apiOver(failAttempt{w.raw, "impersonation.start"}, access.DefaultPolicy())
	res, _ := startImpersonation(t, noStart, opCookie, "alpha", admin.Email, "ticket 1")
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, readBody(t, res))
	require.Empty(t, impersonationsOf(t, w, w.alpha.ID), "no impersonation without its attempt on record")

	_, st := startImpersonation(t, good, opCookie, "alpha", admin.Email, "ticket 2")
	res = enter(good, "alpha", st.Code)
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	cookie := sessionCookie(t, res)

	noRequest := w.apiOver(failAttempt{w.raw, "impersonation.request"}, access.DefaultPolicy())
	mark := head(shopLog(t, w, w.alpha.ID))
	res = noRequest.do(hcall{method: "PATCH", target: "/shop", host: "alpha.example.test", session: cookie, body: `{"name":"Unaudited Rename"}`, contentType: "application/json"})
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, readBody(t, res))
	shop, err := good.tenancy.Shop(access.System(context.Background(), w.alpha.ID, w.alpha.OrgID, "test"))
	require.NoError(t, err)
	require.Equal(t, w.alpha.Name, shop.Name, "the handler never ran")
	require.Empty(t, since(shopLog(t, w, w.alpha.ID), mark))

	// Reads are not gated by the request event (they write nothing), and
	// the member's own requests are untouched by it.
	res = noRequest.do(hcall{method: "GET", target: "/shop", host: "alpha.example.test", session: cookie})
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	own, _ := w.signIn(noRequest, "alpha", admin.Email)
	res = noRequest.do(hcall{method: "PATCH", target: "/shop", host: "alpha.example.test", session: own, body: `{"name":"Renamed By Admin"}`, contentType: "application/json"})
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
}

// TestOperatorSessionGrantsNothingInShops: the operator is an attacker of
// every tenant route (the attack matrix's routes, HQ copies included), on
// every shop's host — with the operator cookie, and with its value put in
// the member cookie's place. Each answer is 401, none carries bravo's
// data, and bravo is unchanged. A member's session cookie is no
// credential on the operator routes either, and those routes exist on the
// platform's host only. Then the operator attacks bravo while
// impersonating alpha's org owner, who could reach bravo through HQ:
// every route is refused.
func TestOperatorSessionGrantsNothingInShops(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	before := bravoState(t, w)
	_, opCookie := newOperator(t, a, "attacker@ops.example.test")
	cases := 0
	for _, r := range sessionRoutes(a) {
		for _, host := range []string{"alpha", "bravo"} {
			params := maps(w.bravoParams, map[string]string{"email": w.bob.Email})
			sp := specFor(t, r, params, w.unique(), false)
			for _, as := range []string{"operator cookie", "as session cookie"} {
				c := hcall{method: r.Method, target: sp.target, host: host + ".example.test", body: sp.body, contentType: sp.contentType}
				if as == "operator cookie" {
					c.operator = opCookie
				} else {
					c.session = opCookie
				}
				res := a.do(c)
				body := readBody(t, res)
				what := fmt.Sprintf("%s %s on %s with the %s", r.Method, sp.target, host, as)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, what+": "+body)
				require.Empty(t, res.Header.Get(httpapi.ImpersonationHeader), what)
				noSecrets(t, w, what, body, sp.target+" "+sp.body)
				cases++
			}
		}
	}
	require.Equal(t, before, bravoState(t, w))

	member, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
	for _, r := range a.api.Routes() {
		if r.Access != httpapi.AccessOperator {
			continue
		}
		for _, c := range []hcall{
			{session: member},  // a member's cookie, as itself
			{operator: member}, // and in the operator cookie's place
			{operator: "v1.k1.AAAAAAAAAAAAAAAAAAAAAA." + strings.Repeat("A", 43) + "." + strings.Repeat("A", 43)}, // forged
		} {
			c.method, c.target, c.host = r.Method, r.Path, platformHost
			if r.Method == http.MethodPost && r.Path == "/operator/impersonations" {
				c.body, c.contentType = `{"shop":"alpha","user":"`+w.bob.Email+`","reason":"attack"}`, "application/json"
			}
			res := a.do(c)
			require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %s: %s", r.Method, r.Path, readBody(t, res))
			cases++
		}
		// Operator routes are not served on a shop's host.
		res := a.do(hcall{method: r.Method, target: r.Path, host: "alpha.example.test", operator: opCookie})
		require.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s on a shop host: %s", r.Method, r.Path, readBody(t, res))
	}
	require.Empty(t, impersonationsOf(t, w, w.alpha.ID))

	// Impersonating alpha's org owner — who, as themself, reaches bravo
	// through HQ — reaches nothing of bravo: org power is not lent to an
	// operator. Every session route, bravo's resources, both hosts.
	for _, r := range sessionRoutes(a) {
		for _, host := range []string{"alpha", "bravo"} {
			_, st := startImpersonation(t, a, opCookie, "alpha", w.orgOwner.Email, "attack through HQ")
			res := enter(a, "alpha", st.Code)
			require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
			imp := sessionCookie(t, res)
			params := maps(w.bravoParams, map[string]string{"email": w.bob.Email})
			sp := specFor(t, r, params, w.unique(), false)
			res = a.do(hcall{method: r.Method, target: sp.target, host: host + ".example.test", session: imp, body: sp.body, contentType: sp.contentType})
			body := readBody(t, res)
			what := fmt.Sprintf("%s %s impersonating alpha's org owner on %s's host", r.Method, sp.target, host)
			switch {
			case host == "bravo":
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, what+": "+body)
			case r.ViaHQ || r.OrgPermission != "":
				require.Equal(t, http.StatusForbidden, res.StatusCode, what+": "+body)
			case namesResource(r.Path):
				require.Contains(t, []int{403, 404}, res.StatusCode, what+": "+body)
			}
			noSecrets(t, w, what, body, sp.target+" "+sp.body)
			w.restorePassword(a, w.orgOwner)
			cases++
		}
	}
	require.Equal(t, before, bravoState(t, w), "bravo is unchanged")
	t.Logf("operator as attacker: %d attempts, all refused", cases)
	w.skipLeftOutBillingRoutes(t, "the operator-as-attacker matrix", isSessionRoute)
}

// TestOperatorLifecycle: sign-in is refused alike for a wrong password,
// an unknown address and a disabled operator; disabling ends the
// operator's session and every impersonation session they hold at its
// next request; impersonating a non-member or a suspended shop is refused
// (the refusal audited in the shop's log).
func TestOperatorLifecycle(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	op, opCookie := newOperator(t, a, "life@ops.example.test")
	ctx := context.Background()

	for _, creds := range []string{credentials(op.Email, "wrong-password-123"), credentials("nobody@ops.example.test", operatorPassword)} {
		res := a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: creds, contentType: "application/json"})
		p := problemOf(t, res, http.StatusUnauthorized)
		require.Equal(t, "e-mail or password is wrong: unauthenticated", p.Detail)
	}
	res := a.do(hcall{method: "GET", target: "/operator/me", host: platformHost, operator: opCookie})
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))

	// A member of bravo only cannot be impersonated in alpha: refused,
	// and the attempt and its failure are in alpha's log.
	mark := head(shopLog(t, w, w.alpha.ID))
	res, _ = startImpersonation(t, a, opCookie, "alpha", w.bob.Email, "wrong shop")
	problemOf(t, res, http.StatusNotFound)
	requireSteps(t, since(shopLog(t, w, w.alpha.ID), mark), step{"impersonation.start", ports.OutcomeAttempted}, step{"impersonation.start", ports.OutcomeFailure})
	res, _ = startImpersonation(t, a, opCookie, "nowhere", w.bob.Email, "no shop")
	problemOf(t, res, http.StatusNotFound)

	_, st := startImpersonation(t, a, opCookie, "alpha", w.byRole[ports.RoleTech].Email, "ticket 9")
	res = enter(a, "alpha", st.Code)
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	imp := sessionCookie(t, res)
	res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: imp})
	require.Equal(t, http.StatusOK, res.StatusCode)

	_, err := a.auth.DisableOperator(ctx, op.Email)
	require.NoError(t, err)
	res = a.do(hcall{method: "GET", target: "/auth/me", host: "alpha.example.test", session: imp})
	problemOf(t, res, http.StatusUnauthorized)
	res = a.do(hcall{method: "GET", target: "/operator/me", host: platformHost, operator: opCookie})
	problemOf(t, res, http.StatusUnauthorized)
	res = a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: credentials(op.Email, operatorPassword), contentType: "application/json"})
	p := problemOf(t, res, http.StatusUnauthorized)
	require.Equal(t, "e-mail or password is wrong: unauthenticated", p.Detail, "a disabled operator gets the same answer")

	list, err := a.auth.ListOperators(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, list[0].Disabled())
}

// TestOperatorSignInIsRateLimited (AUTH-10 for operators): attempts are
// counted per address and per account, apart from the members' counters.
func TestOperatorSignInIsRateLimited(t *testing.T) {
	w := newMatrixWorld(t, false)
	pp, err := passwordpolicy.New(passwordpolicy.Policy{})
	require.NoError(t, err)
	svc, err := auth.New(auth.Deps{Store: w.raw, Hasher: w.hasher, Policy: pp, Keys: w.keys, Mail: w.mailer.outbox, Clock: w.clock},
		auth.Config{Limits: auth.Limits{PerAccount: 3, PerIP: 1 << 20}})
	require.NoError(t, err)
	shops, err := httpapi.NewHostShops(w.raw, "https://example.test", w.clock)
	require.NoError(t, err)
	a := &matrixAPI{w: w, auth: svc, api: observe(httpapi.New(httpapi.Deps{Logger: zapTo(w.canary), Auth: &httpapi.AuthDeps{Service: svc, Shops: shops}}), w.canary)}
	op, err := svc.CreateOperator(context.Background(), "limited@ops.example.test", "", operatorPassword)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		res := a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: credentials(op.Email, "wrong-password-123"), contentType: "application/json"})
		problemOf(t, res, http.StatusUnauthorized)
	}
	res := a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: credentials(op.Email, operatorPassword), contentType: "application/json"})
	problemOf(t, res, http.StatusTooManyRequests)
	// The same address's member sign-in on a shop is counted apart.
	res = a.do(hcall{method: "POST", target: "/auth/signin", host: "alpha.example.test", body: credentials(w.byRole[ports.RoleOwner].Email, matrixPassword), contentType: "application/json"})
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
}

// TestImpersonationHandOffByForm: an operator console that posts forms
// gets a page whose form posts the one-time code to the shop's host (the
// code is in the body, not in any URL); the shop's host takes that
// cross-origin post, sets the session and sends the browser to
// AuthDeps.AfterSignIn (unset here: GET /auth/impersonation, JSON).
func TestImpersonationHandOffByForm(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	_, opCookie := newOperator(t, a, "forms@ops.example.test")
	res := a.do(hcall{method: "POST", target: "/operator/impersonations", host: platformHost, operator: opCookie,
		body: "shop=alpha&user=" + w.byRole[ports.RoleSales].Email + "&reason=Ticket+77", contentType: "application/x-www-form-urlencoded"})
	page := readBody(t, res)
	require.Equal(t, http.StatusCreated, res.StatusCode, page)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	m := regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="code" value="([A-Za-z0-9_-]{43})">`).FindStringSubmatch(page)
	require.NotNil(t, m, page)
	require.Equal(t, "https://alpha.example.test/auth/impersonation/enter", m[1])

	req := hcall{method: "POST", target: "/auth/impersonation/enter", host: "alpha.example.test", body: "code=" + m[2], contentType: "application/x-www-form-urlencoded"}
	res = a.doCrossSite(req, "https://example.test")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	require.Equal(t, "/auth/impersonation", res.Header.Get("Location"))
	cookie := sessionCookie(t, res)
	res = a.do(hcall{method: "GET", target: "/auth/impersonation", host: "alpha.example.test", session: cookie, accept: "text/html"})
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.Contains(t, body, `"reason":"Ticket 77"`)

	// The exit form is same-origin; a cross-site post of it is refused.
	res = a.doCrossSite(hcall{method: "POST", target: "/auth/impersonation/exit", host: "alpha.example.test", session: cookie}, "https://evil.test")
	require.Equal(t, http.StatusForbidden, res.StatusCode, readBody(t, res))
}

// doCrossSite sends c as a browser would from a page of origin.
func (a *matrixAPI) doCrossSite(c hcall, origin string) *http.Response {
	return a.doWith(c, func(r *http.Request) {
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
	})
}
