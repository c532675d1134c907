package testinfra_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/testinfra"
)

// recordingTB records Fatalf and Skipf instead of stopping the test. Any
// other testing.TB method panics on the nil embedded interface, so Missing
// is held to using only these.
type recordingTB struct {
	testing.TB
	fatals []string
	skips  []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skips = append(r.skips, fmt.Sprintf(format, args...))
}

func TestRequire(t *testing.T) {
	for value, want := range map[string]bool{"1": true, "": false, "0": false, "true": false} {
		t.Setenv("STOCKADE_REQUIRE_INTEGRATION", value)
		assert.Equal(t, want, testinfra.Require(), "STOCKADE_REQUIRE_INTEGRATION=%q", value)
	}
}

func TestMissingFailsWhenRequired(t *testing.T) {
	t.Setenv("STOCKADE_REQUIRE_INTEGRATION", "1")
	tb := &recordingTB{}
	testinfra.Missing(tb, "Widget", "widgetd not on PATH", "apt-get install widget")

	require.Len(t, tb.fatals, 1, "Missing must fail the test when integration is required")
	assert.Empty(t, tb.skips, "Missing must not also skip")
	for _, want := range []string{"Widget", "widgetd not on PATH", "apt-get install widget"} {
		assert.Contains(t, tb.fatals[0], want)
	}
}

func TestMissingSkipsOtherwise(t *testing.T) {
	t.Setenv("STOCKADE_REQUIRE_INTEGRATION", "")
	tb := &recordingTB{}
	testinfra.Missing(tb, "Widget", "widgetd not on PATH", "apt-get install widget")

	require.Len(t, tb.skips, 1, "Missing must skip the test when integration is not required")
	assert.Empty(t, tb.fatals, "Missing must not fail")
	for _, want := range []string{"Widget", "widgetd not on PATH", "apt-get install widget", "STOCKADE_REQUIRE_INTEGRATION=1"} {
		assert.Contains(t, tb.skips[0], want)
	}
}
