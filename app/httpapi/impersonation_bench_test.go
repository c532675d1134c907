package httpapi_test

// The price of impersonation (AUD-5). Run:
//
//	go test ./app/httpapi -run '^$' -bench 'BenchmarkImpersonation' -count 6 | tee imp.txt && benchstat -col /kind imp.txt
//
// kind=member is the member's own session, kind=impersonated an operator's
// impersonation session of the same user. A read pays for the session
// lookup's two extra joins (impersonation, operator) and the header; a
// state-changing request also pays for its audit-first events
// (attempted before, outcome after: two more units of work).

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
)

func BenchmarkImpersonation(b *testing.B) {
	for _, st := range storeVariants() {
		b.Run("store="+st.name, func(b *testing.B) {
			h := newHarness(b, st.give)
			ctx := context.Background()
			_, err := h.svc.CreateOperator(ctx, "bench@ops.example.test", "", operatorPassword)
			require.NoError(b, err)
			en, err := h.svc.EnrolOperatorTOTPByEmail(ctx, "bench@ops.example.test")
			require.NoError(b, err)
			code, err := auth.TOTPCode(en.Secret, h.clock.Now())
			require.NoError(b, err)
			op, err := h.svc.OperatorSignIn(ctx, auth.OperatorSignInInput{Email: "bench@ops.example.test", Password: operatorPassword, Code: code, Client: auth.Client{IP: "192.0.2.1"}})
			require.NoError(b, err)
			// Fresh sessions for each run: revoke-others by one ends the
			// other.
			member := func() string {
				c, _ := h.signIn("acme.example.test", h.tom.Email, tomPassword)
				return c
			}
			impersonated := func() string {
				started, err := h.svc.StartImpersonation(ctx, op.Cookie, auth.StartImpersonationInput{Shop: "acme", User: h.tom.Email, Reason: "benchmark", Client: auth.Client{IP: "192.0.2.1"}})
				require.NoError(b, err)
				is, err := h.svc.EnterImpersonation(ctx, h.acme.ID, started.Code, auth.Client{IP: "192.0.2.1"})
				require.NoError(b, err)
				return is.Cookie
			}

			for _, rq := range []struct{ name, method, path string }{
				{"GET_me", http.MethodGet, "/auth/me"},
				{"POST_revoke-others", http.MethodPost, "/auth/sessions/revoke-others"},
			} {
				for _, k := range []struct {
					kind   string
					cookie func() string
				}{{"member", member}, {"impersonated", impersonated}} {
					b.Run("req="+rq.name+"/kind="+k.kind, func(b *testing.B) {
						cookie := k.cookie()
						h.store.reset()
						n := 0
						for b.Loop() {
							res := h.serve(call{method: rq.method, path: rq.path, cookie: cookie})
							if res.StatusCode != http.StatusOK {
								b.Fatalf("status %d: %s", res.StatusCode, readBody(b, res))
							}
							n++
						}
						b.ReportMetric(float64(h.store.snapshot().Total())/float64(n), "store-calls/op")
					})
				}
			}
		})
	}
}
