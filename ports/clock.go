package ports

import "time"

// Clock tells the time. Core use cases and adapters take a Clock instead of
// calling time.Now so tests can control expiry and ordering. Implementations
// must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Timestamp normalises t the way every store keeps it: UTC, truncated to the
// microsecond (the resolution of PostgreSQL's timestamptz). Values written
// through a port read back Equal to Timestamp(t).
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
