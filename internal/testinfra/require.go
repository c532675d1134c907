package testinfra

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// requireEnv is the environment variable that turns missing integration
// parts from skips into failures.
const requireEnv = "STOCKADE_REQUIRE_INTEGRATION"

// Require reports whether STOCKADE_REQUIRE_INTEGRATION=1, i.e. whether a
// missing integration part must fail the test rather than skip it. Any other
// value, including unset, means false.
func Require() bool {
	return os.Getenv(requireEnv) == "1"
}

// Missing reports that the real part named part (for example "PostgreSQL")
// is unavailable for reason, and that howto would provide it. It calls
// t.Fatalf when [Require] is true and t.Skipf otherwise; with a real
// testing.TB it therefore never returns. A skip of a real test (a
// *testing.T, B or F) is counted, by part, in the summary line [Main]
// prints; every integration skip goes through here so that none is
// silent.
func Missing(t testing.TB, part, reason, howto string) {
	t.Helper()
	missing(t, part, reason, howto, "")
}

// missing is [Missing]; left, when not empty, says what of the test did
// not run, for a test that runs without part but leaves some of its cases
// out (its skip is the subtest that names them).
func missing(t testing.TB, part, reason, howto, left string) {
	t.Helper()
	if left != "" {
		left += ": "
	}
	if Require() {
		t.Fatalf("%s%s is required (%s=1) but unavailable: %s; to get it: %s", left, part, requireEnv, reason, howto)
		return
	}
	switch t.(type) {
	case *testing.T, *testing.B, *testing.F:
		reg.recordSkip(part, howto)
	}
	t.Skipf("%s%s unavailable: %s; to get it: %s (set %s=1 to make this a failure)", left, part, reason, howto, requireEnv)
}

// unavailableError means a part is absent from this machine, which skips or
// fails the test according to Require. Any other error from starting a part
// means it is present but broken, and always fails the test.
type unavailableError struct {
	reason string
}

func (e *unavailableError) Error() string { return e.reason }

// unavailable returns an *unavailableError with a formatted reason.
func unavailable(format string, args ...any) error {
	return &unavailableError{reason: fmt.Sprintf(format, args...)}
}

// failStart reports err from starting part: through Missing with howto when
// it is an *unavailableError, otherwise with t.Fatalf.
func failStart(t testing.TB, part, howto string, err error) {
	t.Helper()
	failStartLeaving(t, part, howto, "", err)
}

// failStartLeaving is failStart for [missing] with left.
func failStartLeaving(t testing.TB, part, howto, left string, err error) {
	t.Helper()
	if ue, ok := errors.AsType[*unavailableError](err); ok {
		missing(t, part, ue.reason, howto, left)
		return
	}
	t.Fatalf("testinfra: %s: %v", part, err)
}
