package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// limit is one counter an attempt is charged to.
type limit struct {
	key  string // e.g. "signin:ip:203.0.113.9"
	max  int    // attempts allowed per window
	what string // whose attempts, for messages: "this account", "this address"
}

// limiter enforces Limits (AUTH-10). Counters live in the store so that
// every server instance sees the same counts; a small in-process front
// remembers keys known to be locked, so a flood against a locked key is
// refused without touching the database.
type limiter struct {
	store  ports.Store
	window time.Duration

	mu     sync.Mutex
	locked map[string]time.Time // key -> end of its window
	max    int
}

func newLimiter(store ports.Store, l Limits, frontSize int) *limiter {
	return &limiter{store: store, window: l.Window, locked: map[string]time.Time{}, max: frontSize}
}

// charge counts one attempt against every limit. It returns an error
// matching ports.ErrRateLimited if any limit is exceeded (the attempt must
// not proceed), and the limits that this very attempt pushed over, which
// the caller audits once per lock-out.
func (l *limiter) charge(ctx context.Context, now time.Time, limits ...limit) (tripped []limit, err error) {
	if key, ok := l.lockedInFront(now, limits); ok {
		return nil, fmt.Errorf("too many attempts for %s; try again later: %w", key.what, ports.ErrRateLimited)
	}
	counts := make([]int, len(limits))
	starts := make([]time.Time, len(limits))
	err = l.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		for i, lim := range limits {
			n, start, err := tx.RateLimits().Hit(ctx, lim.key, l.window, now)
			if err != nil {
				return err
			}
			counts[i], starts[i] = n, start
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count attempt: %w", err)
	}
	var over *limit
	for i, lim := range limits {
		if counts[i] <= lim.max {
			continue
		}
		l.remember(lim.key, starts[i].Add(l.window), now)
		if counts[i] == lim.max+1 {
			tripped = append(tripped, lim)
		}
		if over == nil {
			over = &limits[i]
		}
	}
	if over != nil {
		return tripped, fmt.Errorf("too many attempts for %s; try again later: %w", over.what, ports.ErrRateLimited)
	}
	return nil, nil
}

// reset forgets key, in the front and in the store.
func (l *limiter) reset(ctx context.Context, key string) error {
	l.mu.Lock()
	delete(l.locked, key)
	l.mu.Unlock()
	return l.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.RateLimits().Reset(ctx, key)
	})
}

func (l *limiter) lockedInFront(now time.Time, limits []limit) (limit, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range limits {
		if until, ok := l.locked[lim.key]; ok {
			if now.Before(until) {
				return lim, true
			}
			delete(l.locked, lim.key)
		}
	}
	return limit{}, false
}

// remember records a lock-out in the front, evicting ended lock-outs (and,
// if the front is still full, an arbitrary one) to stay within its size.
func (l *limiter) remember(key string, until, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.locked) >= l.max {
		for k, u := range l.locked {
			if !now.Before(u) {
				delete(l.locked, k)
			}
		}
		for k := range l.locked {
			if len(l.locked) < l.max {
				break
			}
			delete(l.locked, k)
		}
	}
	l.locked[key] = until
}

// accountLimit is purpose's counter for an e-mail address, keyed without
// the address in clear.
func accountLimit(purpose, email string, max int) limit {
	sum := sha256.Sum256([]byte(ports.NormalizeEmail(email)))
	return limit{key: purpose + ":acct:" + hex.EncodeToString(sum[:16]), max: max, what: "this account"}
}

// ipLimit is purpose's counter for a client address.
func ipLimit(purpose, ip string, max int) limit {
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return limit{key: purpose + ":ip:" + ip, max: max, what: "this address"}
}
