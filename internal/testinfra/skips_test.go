package testinfra_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTestFixture runs `go test args... ./testdata/skipsummary` the way a
// person would, on a machine without stripe-mock (not on PATH, not in
// GOPATH, no STOCKADE_TEST_STRIPE_MOCK_*), with
// STOCKADE_REQUIRE_INTEGRATION=1 only when requireIntegration, and returns
// what the go command printed, stdout and stderr together, and whether it
// succeeded.
func goTestFixture(t *testing.T, requireIntegration bool, args ...string) (string, bool) {
	t.Helper()
	cmd := fixtureCommand(t, requireIntegration, args...)
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	return string(out), err == nil
}

// fixtureCommand is the go test command goTestFixture runs.
func fixtureCommand(t *testing.T, requireIntegration bool, args ...string) *exec.Cmd {
	t.Helper()
	modcache, err := exec.CommandContext(t.Context(), "go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "stripe-mock")); err != nil {
			path = append(path, dir)
		}
	}
	env := []string{
		"PATH=" + strings.Join(path, string(filepath.ListSeparator)),
		"GOPATH=" + t.TempDir(), // no $GOPATH/bin/stripe-mock
		"GOMODCACHE=" + strings.TrimSpace(string(modcache)),
	}
	if requireIntegration {
		env = append(env, "STOCKADE_REQUIRE_INTEGRATION=1")
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH", name == "GOPATH", name == "GOMODCACHE", name == "STOCKADE_REQUIRE_INTEGRATION",
			strings.HasPrefix(name, "STOCKADE_TEST_STRIPE_MOCK_"):
		default:
			env = append(env, kv)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", append(append([]string{"test"}, args...), "./testdata/skipsummary")...)
	cmd.Env = env
	return cmd
}

// goTestFixtureToFile runs the plain `go test -count=1` of goTestFixture
// with its stdout and stderr on one file, as `>log 2>&1` does (or
// `>>log 2>&1` when appending), and returns the file's content.
func goTestFixtureToFile(t *testing.T, appending bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appending {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	require.NoError(t, err)
	cmd := fixtureCommand(t, false, "-count=1")
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	require.NoError(t, f.Close())
	out, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, runErr, "%s", out)
	return string(out)
}

const fixtureSummary = "testinfra: github.com/stockadehq/stockade/internal/testinfra/testdata/skipsummary: " +
	"4 tests skipped: 2 need Widget [to get it: apt-get install widget], 1 needs Gadget [to get it: make gadget], " +
	"1 needs stripe-mock [to get it: go install github.com/stripe/stripe-mock@v0.203.0 (a few seconds), or set STOCKADE_TEST_STRIPE_MOCK_BIN / STOCKADE_TEST_STRIPE_MOCK_URL]; " +
	"go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures\n"

// TestPlainGoTestShowsTheSkipSummary: a plain `go test` prints nothing of
// a passing package but its "ok" line — not even what TestMain prints —
// yet the skip summary shows, once, just before that line; with -v it
// shows once too, after each skipped test with its reason. A run without
// skips prints no summary. The go command's output redirected to a file
// stays intact, and keeps the summary when appended to. With
// STOCKADE_REQUIRE_INTEGRATION=1 the same tests fail instead of skipping.
func TestPlainGoTestShowsTheSkipSummary(t *testing.T) {
	ok := regexp.MustCompile(`(?m)^ok  \tgithub.com/stockadehq/stockade/internal/testinfra/testdata/skipsummary\t`)

	out, passed := goTestFixture(t, false, "-count=1")
	require.True(t, passed, "%s", out)
	assert.Equal(t, 1, strings.Count(out, fixtureSummary), "plain go test shows the summary once:\n%s", out)
	require.Regexp(t, ok, out)
	assert.True(t, strings.HasPrefix(out, fixtureSummary), "the summary comes before the package's ok line:\n%s", out)
	assert.NotContains(t, out, "--- SKIP", "a plain run names no test")

	out, passed = goTestFixture(t, false, "-count=1", "-v")
	require.True(t, passed, "%s", out)
	assert.Equal(t, 1, strings.Count(out, fixtureSummary), "-v shows the summary once:\n%s", out)
	assert.Equal(t, 4, strings.Count(out, "--- SKIP"), "-v names the skipped tests:\n%s", out)
	assert.Contains(t, out, "the fixture's billing cases: stripe-mock unavailable: stripe-mock not found", "the left-out cases say what was left out and why")

	out, passed = goTestFixture(t, false, "-count=1", "-run", "TestRuns")
	require.True(t, passed, "%s", out)
	assert.NotContains(t, out, "testinfra:", "no skips, no summary:\n%s", out)
	require.Regexp(t, ok, out)

	// go test ./... >log 2>&1: the go command writes the log at its own
	// offset, where an appended line would be overwritten, so the line
	// goes to the terminal (if any) and the log is go's own, intact.
	log := goTestFixtureToFile(t, false)
	assert.Regexp(t, `^(?:`+regexp.QuoteMeta(fixtureSummary)+`)?ok  \tgithub.com/stockadehq/stockade/internal/testinfra/testdata/skipsummary\t[0-9.]+s\n$`, log,
		"the go command's log is not garbled")
	// go test ./... >>log 2>&1: appended, the line stays in the log.
	log = goTestFixtureToFile(t, true)
	assert.True(t, strings.HasPrefix(log, fixtureSummary), "the summary is in an appended log:\n%s", log)
	require.Regexp(t, ok, log)

	out, passed = goTestFixture(t, true, "-count=1", "-v")
	require.False(t, passed, "STOCKADE_REQUIRE_INTEGRATION=1 turns the skips into failures:\n%s", out)
	assert.NotContains(t, out, "--- SKIP", "nothing skips under STOCKADE_REQUIRE_INTEGRATION=1:\n%s", out)
	assert.NotContains(t, out, "testinfra:", "nothing skipped, no summary:\n%s", out)
	for _, name := range []string{"TestNeedsWidget", "TestNeedsGadget", "TestNeedsWidgetToo/inner", "TestWithoutStripeMock"} {
		assert.Contains(t, out, "--- FAIL: "+name+" ", "%s fails", name)
	}
	assert.Contains(t, out, "stripe-mock is required (STOCKADE_REQUIRE_INTEGRATION=1) but unavailable", "OptionalStripeMock fails under STOCKADE_REQUIRE_INTEGRATION=1")
}
