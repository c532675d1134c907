package sqlstore

import (
	"math"
	"testing"
	"time"
)

// TestCeilMicroRoundsUpWithoutOverflow: a rate-limit window is stored at
// microsecond resolution, so a positive window never becomes zero, and
// the longest Duration does not wrap to a negative window.
func TestCeilMicroRoundsUpWithoutOverflow(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{time.Nanosecond, time.Microsecond},
		{time.Microsecond, time.Microsecond},
		{time.Microsecond + time.Nanosecond, 2 * time.Microsecond},
		{time.Minute - time.Nanosecond, time.Minute},
		{time.Hour, time.Hour},
		{math.MaxInt64, time.Duration(math.MaxInt64).Truncate(time.Microsecond)},
	} {
		if got := ceilMicro(c.in); got != c.want {
			t.Errorf("ceilMicro(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}
