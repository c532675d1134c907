package sqlstore

import (
	"context"
	"math"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// RateLimits implements ports.GlobalTx.
func (t *Global) RateLimits() ports.RateLimitRepo { return rateLimits{t} }

// rateLimits keeps fixed-window attempt counters (global rows).
type rateLimits struct{ t *Global }

var _ ports.RateLimitRepo = rateLimits{}

// maxRateLimitKey bounds a counter's key, in bytes.
const maxRateLimitKey = 200

// Hit is one upsert. A counter whose window has ended (start + window <=
// now: windows are half-open) restarts at 1 from now; otherwise it counts
// up. The window's end is compared as start <= now - window, so the
// statement does time arithmetic on neither database; window is rounded
// up to the microsecond (the stored resolution), so no positive window is
// zero. Concurrent hits on one key serialise (on Postgres INSERT … ON
// CONFLICT takes the row's lock, on SQLite the one writer holds the
// database's) and each reads the row the previous one wrote, so every hit
// is counted exactly once. Both CASEs read the row as it was before this
// hit.
func (r rateLimits) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	if err := validateRateLimitKey(key); err != nil {
		return 0, time.Time{}, err
	}
	if window <= 0 {
		return 0, time.Time{}, ports.Invalid("window", "must be positive")
	}
	now = ports.Timestamp(now)
	ended := now.Add(-ceilMicro(window))
	var row struct {
		Count int  `db:"count"`
		Start Time `db:"window_start"`
	}
	err := r.t.get(ctx, &row, `INSERT INTO rate_limits AS rl (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rl.window_start <= ? THEN 1 ELSE rl.count + 1 END,
			window_start = CASE WHEN rl.window_start <= ? THEN excluded.window_start ELSE rl.window_start END
		RETURNING count, window_start`, key, now, ended, ended)
	if err != nil {
		return 0, time.Time{}, r.t.wrap("hit rate limit", err)
	}
	return row.Count, row.Start.Time, nil
}

func (r rateLimits) Reset(ctx context.Context, key string) error {
	if _, err := r.t.exec(ctx, `DELETE FROM rate_limits WHERE key = ?`, key); err != nil {
		return r.t.wrap("reset rate limit", err)
	}
	return nil
}

func (r rateLimits) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, before)
	if err != nil {
		return 0, r.t.wrap("prune rate limits", err)
	}
	return int(n), nil
}

// ceilMicro is d (positive) rounded up to the microsecond, or down where
// rounding up would overflow a Duration.
func ceilMicro(d time.Duration) time.Duration {
	c := d.Truncate(time.Microsecond)
	if c < d && c <= math.MaxInt64-time.Microsecond {
		c += time.Microsecond
	}
	return c
}

func validateRateLimitKey(key string) error {
	if key == "" || len(key) > maxRateLimitKey {
		return ports.Invalid("key", "must be 1 to 200 bytes")
	}
	return nil
}
