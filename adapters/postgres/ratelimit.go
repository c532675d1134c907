package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// rateLimits keeps fixed-window counters (global rows).
type rateLimits struct{ t *globalTx }

// maxRateLimitKey bounds a counter's key, in bytes.
const maxRateLimitKey = 200

// Hit is one upsert. Concurrent hits on one key serialise on the row
// (INSERT … ON CONFLICT takes its lock), and each re-reads the row the
// previous one wrote, so every hit is counted exactly once. Both CASEs read
// the row as it was before this hit: when its window has ended (start +
// window <= now) the hit opens a new window at now with count 1.
func (r rateLimits) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	if err := validateRateLimitKey(key); err != nil {
		return 0, time.Time{}, err
	}
	if window <= 0 {
		return 0, time.Time{}, ports.Invalid("window", "must be positive")
	}
	var row struct {
		Count int       `db:"count"`
		Start time.Time `db:"window_start"`
	}
	err := sqlx.GetContext(ctx, r.t.q, &row, `INSERT INTO rate_limits AS rl (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rl.window_start + $3::interval <= excluded.window_start
				THEN 1 ELSE rl.count + 1 END,
			window_start = CASE WHEN rl.window_start + $3::interval <= excluded.window_start
				THEN excluded.window_start ELSE rl.window_start END
		RETURNING count, window_start`, key, ports.Timestamp(now), windowInterval(window))
	if err != nil {
		return 0, time.Time{}, wrap("rate limit hit", err)
	}
	return row.Count, row.Start.UTC(), nil
}

func (r rateLimits) Reset(ctx context.Context, key string) error {
	if _, err := r.t.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = $1`, key); err != nil {
		return wrap("rate limit reset", err)
	}
	return nil
}

func (r rateLimits) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, ports.Timestamp(before)))
	if err != nil {
		return 0, wrap("rate limit prune", err)
	}
	return int(n), nil
}

// windowInterval spells window as an exact PostgreSQL interval, rounded up
// to the microsecond (timestamptz's resolution) so no positive window is
// zero.
func windowInterval(window time.Duration) string {
	return strconv.FormatInt(int64((window+time.Microsecond-1)/time.Microsecond), 10) + " microseconds"
}

func validateRateLimitKey(key string) error {
	if key == "" || len(key) > maxRateLimitKey {
		return ports.Invalid("key", "must be 1 to 200 bytes")
	}
	return nil
}
