package httpapi_test

// Acceptance 4 (AUTH-2): a sign-in with an unknown e-mail takes as long
// as one with a known e-mail and a wrong password. Not a wall-clock
// threshold: two interleaved samples are compared as distributions with a
// two-sample Kolmogorov–Smirnov test, and a control proves the test can
// see the leak it is looking for.

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// ksSamples is the size of each timing sample.
const ksSamples = 80

// ksAlpha is the significance level: p below it means "different".
const ksAlpha = 0.001

// ksTest returns the two-sample Kolmogorov–Smirnov statistic D (the
// largest distance between the two empirical distribution functions) and
// its asymptotic p-value (Stephens' small-sample correction of the
// effective size, as in Numerical Recipes' kstwo).
func ksTest(a, b []float64) (d, p float64) {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	n, m := float64(len(x)), float64(len(y))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] == v { // ties move both functions at once
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	ne := math.Sqrt(n * m / (n + m))
	return d, kolmogorovQ((ne + 0.12 + 0.11/ne) * d)
}

// kolmogorovQ is the complementary Kolmogorov distribution
// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, with the Jacobi-theta form for
// small λ where that series converges slowly.
func kolmogorovQ(lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 1
	case lambda < 1.18:
		// P(K ≤ λ) = √(2π)/λ Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}
		var sum float64
		for k := 1; k <= 20; k++ {
			sum += math.Exp(-float64((2*k-1)*(2*k-1)) * math.Pi * math.Pi / (8 * lambda * lambda))
		}
		return 1 - math.Sqrt(2*math.Pi)/lambda*sum
	}
	var sum float64
	sign := 1.0
	for k := 1; k <= 100; k++ {
		sum += sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sign = -sign
	}
	return math.Min(1, math.Max(0, 2*sum))
}

// The statistic itself, against values any table gives.
func TestKolmogorovSmirnov(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lambda, want float64
	}{
		{0.5, 0.9639}, {1.0, 0.2700}, {1.18, 0.1235}, {1.358, 0.0500}, {1.628, 0.0100}, {1.949, 0.0010},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, kolmogorovQ(tt.lambda), 0.0005, "Q(%v)", tt.lambda)
	}
	same := []float64{3, 1, 2, 5, 4}
	d, p := ksTest(same, same)
	assert.Zero(t, d)
	assert.InDelta(t, 1, p, 1e-9)
	lo := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hi := []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	d, p = ksTest(lo, hi)
	assert.Equal(t, 1.0, d)
	assert.Less(t, p, 1e-4)
	d, _ = ksTest([]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6})
	assert.Equal(t, 0.5, d)
}

// skipDummyHasher is the leak AUTH-2 forbids, planted for the control: it
// passes every call through except a Verify against a hash it made after
// being armed (the service's dummy hash, made on the first unknown-e-mail
// sign-in), which it answers at once.
type skipDummyHasher struct {
	*passhash.Hasher
	mu    sync.Mutex
	armed bool
	made  map[string]bool
}

func (h *skipDummyHasher) arm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = true
}

func (h *skipDummyHasher) Hash(ctx context.Context, password string) (string, error) {
	out, err := h.Hasher.Hash(ctx, password)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.armed {
		h.made[out] = true
	}
	return out, err
}

func (h *skipDummyHasher) Verify(ctx context.Context, password, encoded string) (bool, bool, error) {
	h.mu.Lock()
	skip := h.made[encoded]
	h.mu.Unlock()
	if skip {
		return false, false, nil
	}
	return h.Hasher.Verify(ctx, password, encoded)
}

// signInSamples times sign-ins with an unknown e-mail and with a known
// e-mail and a wrong password, in pairs so that drift in the machine's load
// lands on both samples alike. Each pair's order is a coin flip and each
// call starts right after a collection: every Argon2id call allocates
// megabytes, so the collector runs on a period of a few calls, and a fixed
// order (AB AB or AB BA) aliases with it — measured here at 27 ms vs 19 ms
// for two identical hash verifications.
func signInSamples(t *testing.T, h *harness) (unknown, wrong []float64) {
	t.Helper()
	ctx := context.Background()
	one := func(email string) float64 {
		runtime.GC()
		start := time.Now()
		_, err := h.svc.SignIn(ctx, auth.SignInInput{Shop: h.acme.ID, Email: email, Password: "not-the-Password-77", Client: auth.Client{IP: "192.0.2.50"}})
		elapsed := time.Since(start)
		require.True(t, errors.Is(err, ports.ErrUnauthenticated), "sign-in of %s: %v", email, err)
		return float64(elapsed) / float64(time.Microsecond)
	}
	for range 5 { // warm up: the dummy hash, connections, caches
		one("nobody@example.test")
		one("tom@example.test")
	}
	for range ksSamples {
		if rand.IntN(2) == 0 {
			unknown = append(unknown, one("nobody@example.test"))
			wrong = append(wrong, one("tom@example.test"))
		} else {
			wrong = append(wrong, one("tom@example.test"))
			unknown = append(unknown, one("nobody@example.test"))
		}
	}
	return unknown, wrong
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

var unlimited = auth.Config{Limits: auth.Limits{PerIP: 1 << 30, PerAccount: 1 << 30}}

// Guards signin.go SignIn's dummy verification (`if hash == "" { …
// s.hasher.Verify(ctx, in.Password, dummy) … }`): without it the unknown
// e-mail answers in a fraction of the time, which the control below shows
// this test detects.
func TestSignInTimingDoesNotRevealAccounts(t *testing.T) {
	h := newHarness(t, withConfig(unlimited))
	unknown, wrong := signInSamples(t, h)
	d, p := ksTest(unknown, wrong)
	t.Logf("unknown e-mail vs wrong password: n=%d each, median %.0f µs vs %.0f µs, KS D=%.3f p=%.3g",
		ksSamples, median(unknown), median(wrong), d, p)
	assert.Greater(t, p, ksAlpha, "the two paths are distinguishable by time")
}

// The control: the same measurement and the same KS code, with the dummy
// verification skipped, must find the difference.
func TestSignInTimingControlDetectsASkippedHash(t *testing.T) {
	var leaky *skipDummyHasher
	h := newHarness(t, withConfig(unlimited), withHasher(func(real *passhash.Hasher) ports.PasswordHasher {
		leaky = &skipDummyHasher{Hasher: real, made: map[string]bool{}}
		return leaky
	}))
	leaky.arm()
	unknown, wrong := signInSamples(t, h)
	d, p := ksTest(unknown, wrong)
	t.Logf("control (dummy hash skipped): n=%d each, median %.0f µs vs %.0f µs, KS D=%.3f p=%.3g",
		ksSamples, median(unknown), median(wrong), d, p)
	assert.Less(t, p, ksAlpha, "the KS test did not see a skipped hash")
}
