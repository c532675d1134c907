package jobs

import (
	"errors"
	"math/rand/v2"
	"time"
)

// ExponentialBackoff returns a back-off that waits about base after the
// first failed attempt and doubles with each further one, up to limit,
// with jitter: the delay is drawn uniformly from [d/2, d), so that jobs
// that failed together (an outage) do not all retry at the same instant.
func ExponentialBackoff(base, limit time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		attempt = max(attempt, 1)
		d := limit
		if shift := attempt - 1; shift < 62 && base <= limit>>shift {
			d = base << shift
		}
		if d <= 1 {
			return max(d, 0)
		}
		// math/rand/v2's top-level source is seeded by the runtime from a
		// secure source; the jitter needs to be unpredictable, not secret.
		return d/2 + rand.N(d-d/2)
	}
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the runner makes the job dead at once
// instead of retrying it (a malformed payload, a record that is gone).
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was made by
// Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
