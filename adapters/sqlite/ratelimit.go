package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// maxRateLimitKey is the longest key RateLimitRepo accepts.
const maxRateLimitKey = 200

// rateLimits keeps fixed-window attempt counters (global rows).
type rateLimits struct{ t *globalTx }

// Hit is one upsert: a counter whose window has ended (start + window <=
// now: windows are half-open) restarts at 1 from now; otherwise it counts
// up. On the single writer connection concurrent hits serialise, so each
// sees the count the previous one left.
func (r rateLimits) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	if key == "" || len(key) > maxRateLimitKey {
		return 0, time.Time{}, ports.Invalid("key", "must be 1 to 200 bytes")
	}
	if window <= 0 {
		return 0, time.Time{}, ports.Invalid("window", "must be positive")
	}
	var got struct {
		Count int   `db:"count"`
		Start int64 `db:"window_start"`
	}
	err := r.t.q.GetContext(ctx, &got, `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count        = CASE WHEN window_start + ?3 <= excluded.window_start THEN 1 ELSE count + 1 END,
			window_start = CASE WHEN window_start + ?3 <= excluded.window_start THEN excluded.window_start ELSE window_start END
		RETURNING count, window_start`, key, micros(now), window.Microseconds())
	if err != nil {
		return 0, time.Time{}, wrap("hit rate limit", err)
	}
	return got.Count, fromMicros(got.Start), nil
}

func (r rateLimits) Reset(ctx context.Context, key string) error {
	_, err := r.t.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = ?`, key)
	return wrap("reset rate limit", err)
}

func (r rateLimits) Prune(ctx context.Context, before time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, micros(before))
	return affected("prune rate limits", res, err)
}
