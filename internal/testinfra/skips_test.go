package testinfra_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTestFixture runs `go test args... ./testdata/skipsummary` the way a
// person would, with STOCKADE_REQUIRE_INTEGRATION unset, and returns what
// the go command printed, stdout and stderr together.
func goTestFixture(t *testing.T, args ...string) string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STOCKADE_REQUIRE_INTEGRATION=") {
			env = append(env, kv)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", append(append([]string{"test"}, args...), "./testdata/skipsummary")...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

const fixtureSummary = "testinfra: github.com/stockadehq/stockade/internal/testinfra/testdata/skipsummary: " +
	"3 tests skipped: 2 need Widget [to get it: apt-get install widget], 1 needs Gadget [to get it: make gadget]; " +
	"go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures\n"

// TestPlainGoTestShowsTheSkipSummary: a plain `go test` prints nothing of
// a passing package but its "ok" line — not even what TestMain prints —
// yet the skip summary shows, once, just before that line; with -v it
// shows once too. A run without skips prints no summary.
func TestPlainGoTestShowsTheSkipSummary(t *testing.T) {
	ok := regexp.MustCompile(`(?m)^ok  \tgithub.com/stockadehq/stockade/internal/testinfra/testdata/skipsummary\t`)

	out := goTestFixture(t, "-count=1")
	assert.Equal(t, 1, strings.Count(out, fixtureSummary), "plain go test shows the summary once:\n%s", out)
	require.Regexp(t, ok, out)
	assert.True(t, strings.HasPrefix(out, fixtureSummary), "the summary comes before the package's ok line:\n%s", out)
	assert.NotContains(t, out, "--- SKIP", "a plain run names no test")

	out = goTestFixture(t, "-count=1", "-v")
	assert.Equal(t, 1, strings.Count(out, fixtureSummary), "-v shows the summary once:\n%s", out)
	assert.Equal(t, 3, strings.Count(out, "--- SKIP"), "-v names the skipped tests:\n%s", out)

	out = goTestFixture(t, "-count=1", "-run", "TestRuns")
	assert.NotContains(t, out, "testinfra:", "no skips, no summary:\n%s", out)
	require.Regexp(t, ok, out)
}
