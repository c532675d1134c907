package testinfra

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummaryLine(t *testing.T) {
	assert.Empty(t, summaryLine("example.com/app", nil), "no skips, no line")
	assert.Equal(t,
		"testinfra: example.com/app: 1 test skipped: 1 needs stripe-mock [to get it: go install x]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures",
		summaryLine("example.com/app", []*skipTally{{part: "stripe-mock", howto: "go install x", tests: 1}}))
	assert.Equal(t,
		"testinfra: 12 tests skipped: 10 need stripe-mock [to get it: go install x], 2 need MinIO [to get it: go install y]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures",
		summaryLine("", []*skipTally{{part: "stripe-mock", howto: "go install x", tests: 10}, {part: "MinIO", howto: "go install y", tests: 2}}))
}

// fakeTB stands in for a test in a test of Missing itself.
type fakeTB struct {
	testing.TB
	skips []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skips = append(f.skips, fmt.Sprintf(format, args...))
}

// TestMissingCountsEachSkippedTest: every real test that Missing skips is
// counted once under its part, in the order the parts were first missed;
// a stand-in testing.TB is not a test and is not counted. The tests'
// tallies are taken out of the binary's own summary afterwards: they are
// this test's fixtures, not parts missing from the machine.
func TestMissingCountsEachSkippedTest(t *testing.T) {
	t.Setenv(requireEnv, "")
	reg.mu.Lock()
	saved := reg.skips
	reg.skips = nil
	reg.mu.Unlock()
	t.Cleanup(func() {
		reg.mu.Lock()
		reg.skips = saved
		reg.mu.Unlock()
	})

	for _, part := range []string{"Widget", "Gadget", "Widget"} {
		t.Run(part, func(t *testing.T) {
			Missing(t, part, "not installed", "install "+part)
		})
	}
	t.Run("left out", func(t *testing.T) {
		missing(t, "Widget", "not installed", "install Widget", "the widget cases")
	})
	fake := &fakeTB{}
	Missing(fake, "Gizmo", "not installed", "install Gizmo")
	require.Len(t, fake.skips, 1)

	assert.Equal(t,
		"testinfra: p: 4 tests skipped: 3 need Widget [to get it: install Widget], 1 needs Gadget [to get it: install Gadget]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures",
		reg.skipSummary("p"))
}

func TestMissingSaysWhatWasLeftOut(t *testing.T) {
	t.Setenv(requireEnv, "")
	fake := &fakeTB{}
	missing(fake, "stripe-mock", "not on PATH", "go install x", "the matrix left out GET /billing")
	require.Len(t, fake.skips, 1)
	assert.Regexp(t, `^the matrix left out GET /billing: stripe-mock unavailable: not on PATH; to get it: go install x `, fake.skips[0])
}
