package httpapi_test

// Measurements for capability links (CAP-1). Run with
//
//	go test -run '^$' -bench 'BenchmarkLink' -benchmem ./app/httpapi/
//
// store-calls/op counts units of work and session lookups (the harness's
// countingStore), so "refused before the store" is a number.

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
)

// BenchmarkLinkRequest is one request through the whole handler on both
// stores, side by side: a quote page opened with a valid link (host →
// shop, token → one read-only unit of work looking the hash up → the
// router's record check → the app's handler), the same with a
// well-formed unknown token (one lookup, refused), with a malformed
// token (refused before the store), and GET /auth/me with a session
// cookie for comparison.
func BenchmarkLinkRequest(b *testing.B) {
	for _, v := range storeVariants() {
		h := newHarness(b, v.give)
		links, err := capability.New(capability.Deps{Store: h.store, Kinds: []capability.Kind{quoteKind()}, Clock: h.clock}, capability.Config{})
		require.NoError(b, err)
		shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
		require.NoError(b, err)
		api := httpapi.New(httpapi.Deps{
			Auth:  &httpapi.AuthDeps{Service: h.svc, Shops: shops},
			Links: &httpapi.LinksDeps{Service: links, Routes: quoteRoutes()},
		})
		m, err := links.Mint(access.System(context.Background(), h.acme.ID, h.acme.OrgID, "bench"), capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}})
		require.NoError(b, err)
		unknown := base64.RawURLEncoding.EncodeToString(randomBytes(32)) // well-formed, held by no store
		cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		cases := []struct {
			name, target string
			cookie       string
			want         int
		}{
			{"link", "/p/quotes/Q-1?token=" + m.Token, "", http.StatusOK},
			{"unknown-token", "/p/quotes/Q-1?token=" + unknown, "", http.StatusNotFound},
			{"malformed-token", "/p/quotes/Q-1?token=" + m.Token[:40], "", http.StatusNotFound},
			{"session-me", "/auth/me", cookie, http.StatusOK},
		}
		for _, c := range cases {
			b.Run("store="+v.name+"/req="+c.name, func(b *testing.B) {
				h.store.reset()
				n := 0
				for b.Loop() {
					req := httptest.NewRequest("GET", c.target, nil)
					req.Host = "acme.example.test"
					if c.cookie != "" {
						req.AddCookie(&http.Cookie{Name: "__Host-stockade_session", Value: c.cookie})
					}
					rec := httptest.NewRecorder()
					api.ServeHTTP(rec, req)
					if rec.Code != c.want {
						b.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body)
					}
					n++
				}
				b.ReportMetric(float64(h.store.snapshot().Total())/float64(n), "store-calls/op")
			})
		}
	}
}

// BenchmarkLinkMint is minting one link: one unit of work writing the
// link and its hash-chained audit event.
func BenchmarkLinkMint(b *testing.B) {
	for _, v := range storeVariants() {
		b.Run("store="+v.name, func(b *testing.B) {
			h := newHarness(b, v.give)
			links, err := capability.New(capability.Deps{Store: h.raw, Kinds: []capability.Kind{quoteKind()}, Clock: h.clock}, capability.Config{})
			require.NoError(b, err)
			ctx := access.System(context.Background(), h.acme.ID, h.acme.OrgID, "bench")
			for b.Loop() {
				if _, err := links.Mint(ctx, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
