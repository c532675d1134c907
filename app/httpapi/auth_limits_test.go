package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
)

// One host holds a whole IPv6 /64 (SLAAC, privacy addresses): spraying
// passwords from a fresh address of it per attempt is still one counter,
// and so are an IPv4 address and its IPv4-mapped IPv6 form. Another /64
// has its own counter. Guards limiter.go ipLimit's key.
func TestAddressLimitsKeyIPv6By64(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store, withConfig(auth.Config{Limits: auth.Limits{PerIP: 3, PerAccount: 100, Window: 15 * time.Minute}}))
		attempt := func(i int, remote string) *http.Response {
			return h.serve(call{method: http.MethodPost, path: "/auth/signin", remote: remote,
				body: credentials(fmt.Sprintf("user%d@example.test", i), "Summer2026!spray")})
		}
		for i := range 3 {
			problemOf(t, attempt(i, fmt.Sprintf("[2001:db8:aa:bb::%x]:443", i+1)), http.StatusUnauthorized)
		}
		problemOf(t, attempt(3, "[2001:db8:aa:bb:ffff:1234:5678:9abc]:443"), http.StatusTooManyRequests)
		problemOf(t, attempt(4, "[2001:db8:aa:bc::1]:443"), http.StatusUnauthorized) // the next /64

		for i := range 3 {
			remote := "192.0.2.77:5000"
			if i%2 == 1 {
				remote = "[::ffff:192.0.2.77]:5000"
			}
			problemOf(t, attempt(10+i, remote), http.StatusUnauthorized)
		}
		problemOf(t, attempt(13, "[::ffff:c000:24d]:5000"), http.StatusTooManyRequests) // ::ffff:192.0.2.77 again
	})
}

// A 429 says when to come back: Retry-After is the seconds left in the
// counter's window, from the store's count and from the in-process front
// alike. Guards limiter.go's rateLimited error and problem.go's header.
func TestRateLimitedAnswersRetryAfter(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store, withConfig(auth.Config{Limits: auth.Limits{PerIP: 100, PerAccount: 2, Window: 15 * time.Minute}}))
		attempt := func() *http.Response {
			return h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials("tom@example.test", "wrong-guess-Pw-11")})
		}
		problemOf(t, attempt(), http.StatusUnauthorized)
		h.clock.Advance(time.Minute)
		problemOf(t, attempt(), http.StatusUnauthorized)
		h.clock.Advance(time.Minute)
		res := attempt() // counted in the store: the window began 2 minutes ago
		problemOf(t, res, http.StatusTooManyRequests)
		assert.Equal(t, "780", res.Header.Get("Retry-After"))

		h.clock.Advance(10*time.Minute + 30*time.Second)
		before := h.store.snapshot()
		res = attempt() // refused by the front
		require.Equal(t, before, h.store.snapshot(), "the front answered")
		problemOf(t, res, http.StatusTooManyRequests)
		assert.Equal(t, "150", res.Header.Get("Retry-After"))
	})
}
