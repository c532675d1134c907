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

// TestSkipTallies: each recorded skip is counted under its part, the
// parts in the order they were first missed. (That Missing records each
// real test it skips, subtests included, is shown end to end by
// TestPlainGoTestShowsTheSkipSummary.)
func TestSkipTallies(t *testing.T) {
	var r registry
	assert.Empty(t, r.skipSummary("p"))
	for _, part := range []string{"Widget", "Gadget", "Widget", "Widget"} {
		r.recordSkip(part, "install "+part)
	}
	assert.Equal(t,
		"testinfra: p: 4 tests skipped: 3 need Widget [to get it: install Widget], 1 needs Gadget [to get it: install Gadget]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures",
		r.skipSummary("p"))
}

// TestMissingCountsOnlyRealTests: a stand-in testing.TB (as in the tests
// of Missing itself) is skipped but not counted: it is not a test of the
// binary.
func TestMissingCountsOnlyRealTests(t *testing.T) {
	t.Setenv(requireEnv, "")
	reg.mu.Lock()
	before := len(reg.skips)
	reg.mu.Unlock()
	fake := &fakeTB{}
	Missing(fake, "Gizmo", "not installed", "install Gizmo")
	require.Len(t, fake.skips, 1)
	reg.mu.Lock()
	defer reg.mu.Unlock()
	assert.Len(t, reg.skips, before, "a stand-in is not counted")
	for _, s := range reg.skips {
		assert.NotEqual(t, "Gizmo", s.part)
	}
}

func TestMissingSaysWhatWasLeftOut(t *testing.T) {
	t.Setenv(requireEnv, "")
	fake := &fakeTB{}
	missing(fake, "stripe-mock", "not on PATH", "go install x", "the matrix left out GET /billing")
	require.Len(t, fake.skips, 1)
	assert.Regexp(t, `^the matrix left out GET /billing: stripe-mock unavailable: not on PATH; to get it: go install x `, fake.skips[0])
}
