package porttest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// hitResult is what one Hit returned.
type hitResult struct {
	Count int
	Start time.Time
}

// hit counts one attempt in its own global unit of work.
func hit(s ports.Store, key string, window time.Duration, now time.Time) (hitResult, error) {
	var out hitResult
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out.Count, out.Start, err = tx.RateLimits().Hit(ctx, key, window, now)
		return err
	})
	return out, err
}

// mustHit is hit that requires success.
func mustHit(t *testing.T, s ports.Store, key string, window time.Duration, now time.Time) hitResult {
	t.Helper()
	got, err := hit(s, key, window, now)
	require.NoError(t, err)
	return got
}

// prune runs Prune and requires success.
func prune(t *testing.T, s ports.Store, before time.Time) int {
	t.Helper()
	var n int
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		n, err = tx.RateLimits().Prune(ctx, before)
		return err
	}))
	return n
}

func testRateLimits(t *testing.T, newStore StoreHarness) {
	// t0 is deliberately not UTC and not whole microseconds.
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("z", 5*3600+1800))
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ts := ports.Timestamp

	t.Run("FixedWindow", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name string
			give time.Time
			want hitResult
		}{
			{"first hit opens a window", at(0), hitResult{1, ts(t0)}},
			{"inside the window", at(10 * time.Second), hitResult{2, ts(t0)}},
			{"last microsecond of the window", at(time.Minute - time.Microsecond), hitResult{3, ts(t0)}},
			{"the window is half-open: its end starts a new one", at(time.Minute), hitResult{1, ts(at(time.Minute))}},
			{"inside the second window", at(time.Minute + time.Second), hitResult{2, ts(at(time.Minute))}},
			{"a window starts at the first hit after the last ended", at(5*time.Minute + 7*time.Second), hitResult{1, ts(at(5*time.Minute + 7*time.Second))}},
			{"and runs a full window from there", at(6*time.Minute + 6*time.Second), hitResult{2, ts(at(5*time.Minute + 7*time.Second))}},
		}
		for _, tt := range tests {
			got := mustHit(t, s, "signin:ip:203.0.113.9", time.Minute, tt.give)
			assert.Equal(t, tt.want, got, tt.name)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		s := newStore(t)
		for i := 0; i < 3; i++ {
			mustHit(t, s, "signin:account:a", time.Hour, at(time.Duration(i)*time.Second))
		}
		assert.Equal(t, hitResult{1, ts(at(5 * time.Second))}, mustHit(t, s, "signin:account:b", time.Hour, at(5*time.Second)))
		assert.Equal(t, hitResult{4, ts(t0)}, mustHit(t, s, "signin:account:a", time.Hour, at(6*time.Second)))
	})

	t.Run("Reset", func(t *testing.T) {
		s := newStore(t)
		for i := 0; i < 3; i++ {
			mustHit(t, s, "k", time.Hour, at(time.Duration(i)*time.Second))
		}
		reset := func(key string) error {
			return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error { return tx.RateLimits().Reset(ctx, key) })
		}
		require.NoError(t, reset("k"))
		assert.Equal(t, hitResult{1, ts(at(time.Minute))}, mustHit(t, s, "k", time.Hour, at(time.Minute)), "a reset key starts over")
		require.NoError(t, reset("never-hit"), "resetting an unknown key is not an error")
	})

	t.Run("Prune", func(t *testing.T) {
		s := newStore(t)
		mustHit(t, s, "old", time.Hour, t0)
		mustHit(t, s, "edge", time.Hour, at(10*time.Minute))
		mustHit(t, s, "new", time.Hour, at(20*time.Minute))
		assert.Equal(t, 1, prune(t, s, at(10*time.Minute)), "only the window that started before before")
		assert.Equal(t, 0, prune(t, s, at(10*time.Minute)))
		assert.Equal(t, hitResult{1, ts(at(21 * time.Minute))}, mustHit(t, s, "old", time.Hour, at(21*time.Minute)), "a pruned counter starts over")
		assert.Equal(t, hitResult{2, ts(at(10 * time.Minute))}, mustHit(t, s, "edge", time.Hour, at(21*time.Minute)), "a counter that started at before is kept")
		assert.Equal(t, hitResult{2, ts(at(20 * time.Minute))}, mustHit(t, s, "new", time.Hour, at(21*time.Minute)))
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name   string
			key    string
			window time.Duration
		}{
			{"empty key", "", time.Minute},
			{"key over 200 bytes", strings.Repeat("k", 201), time.Minute},
			{"zero window", "k", 0},
			{"negative window", "k", -time.Minute},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, _, err := tx.RateLimits().Hit(ctx, tt.key, tt.window, t0)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Equal(t, hitResult{1, ts(t0)}, mustHit(t, s, "k", time.Minute, t0), "refused hits were not counted")
		assert.Equal(t, hitResult{1, ts(t0)}, mustHit(t, s, strings.Repeat("k", 200), time.Minute, t0), "200 bytes is allowed")
		assert.Equal(t, 2, prune(t, s, at(time.Hour)), "nothing else was stored")
	})

	t.Run("ConcurrentHitsCountEachOnce", func(t *testing.T) {
		s := newStore(t)
		const racers = 16
		start := make(chan struct{})
		got := make([]hitResult, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				got[i], errs[i] = hit(s, "signin:ip:198.51.100.1", time.Hour, t0)
			})
		}
		close(start)
		wg.Wait()
		var counts []int
		var starts []time.Time
		for i, g := range got {
			require.NoError(t, errs[i])
			counts = append(counts, g.Count)
			starts = append(starts, g.Start)
		}
		want := make([]int, racers)
		for i := range want {
			want[i] = i + 1
		}
		slices.Sort(counts)
		assert.Equal(t, want, counts, "%d concurrent hits are counted 1..%d, each once", racers, racers)
		assert.Equal(t, slices.Repeat([]time.Time{ts(t0)}, racers), starts, "every hit falls in one window")
	})
}
