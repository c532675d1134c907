package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
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
	if key, until, ok := l.lockedInFront(now, limits); ok {
		return nil, &rateLimited{what: key.what, retryAfter: until.Sub(now)}
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
	var over *rateLimited
	for i, lim := range limits {
		if counts[i] <= lim.max {
			continue
		}
		until := starts[i].Add(l.window)
		l.remember(lim.key, until, now)
		if counts[i] == lim.max+1 {
			tripped = append(tripped, lim)
		}
		if over == nil || until.Sub(now) > over.retryAfter {
			over = &rateLimited{what: lim.what, retryAfter: until.Sub(now)}
		}
	}
	if over != nil {
		return tripped, over
	}
	return nil, nil
}

// rateLimited is the refusal of an attempt over a limit. It matches
// ports.ErrRateLimited and says, through RetryAfter, when the counter's
// window ends (the HTTP layer's Retry-After).
type rateLimited struct {
	what       string // whose attempts: "this account", "this address"
	retryAfter time.Duration
}

func (e *rateLimited) Error() string {
	return fmt.Sprintf("too many attempts for %s; try again later: %v", e.what, ports.ErrRateLimited)
}

// Unwrap returns ports.ErrRateLimited.
func (e *rateLimited) Unwrap() error { return ports.ErrRateLimited }

// RetryAfter is the time left until the counter's window ends.
func (e *rateLimited) RetryAfter() time.Duration { return max(e.retryAfter, 0) }

// reset forgets key, in the front and in the store.
func (l *limiter) reset(ctx context.Context, key string) error {
	l.mu.Lock()
	delete(l.locked, key)
	l.mu.Unlock()
	return l.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.RateLimits().Reset(ctx, key)
	})
}

// lockedInFront reports whether the front knows one of limits to be
// locked at now, with the one locked longest and the end of its window.
func (l *limiter) lockedInFront(now time.Time, limits []limit) (locked limit, until time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range limits {
		end, found := l.locked[lim.key]
		switch {
		case !found:
		case !now.Before(end):
			delete(l.locked, lim.key)
		case end.After(until):
			locked, until, ok = lim, end, true
		}
	}
	return locked, until, ok
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

// ipLimit is purpose's counter for a client address, keyed by addressKey.
func ipLimit(purpose, ip string, max int) limit {
	return limit{key: purpose + ":ip:" + addressKey(ip), max: max, what: "this address"}
}

// addressKey is the part of a client address that one client holds: an
// IPv4 address (also when written IPv4-mapped, ::ffff:a.b.c.d), or the
// /64 of an IPv6 address, which one host or home gets whole and can
// cycle through freely. Anything unparseable is kept as given, cut to 64
// bytes.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return truncate(ip, 64)
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}
