package porttest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// expectFailureEnv names the environment variable that tells a re-run
// test binary which test ExpectFailure wants run for real.
const expectFailureEnv = "STOCKADE_PORTTEST_EXPECT_FAILURE"

// ExpectFailure proves that fn fails, the way a suite must fail on a
// deliberately broken store: it re-runs the test binary
// (exec.Command(os.Args[0], "-test.run=^Test$/^Sub$")) selecting only the
// test t, with an environment variable telling that child process to run
// fn as t; fn's failure there is this test's success. The test fails
// unless the child exits non-zero, reports t as failed, and prints every
// string of want (the failing attacks' messages), so a child that failed
// for another reason (a panic, a setup error) is told apart when want
// names the expected failures.
//
// The test binary must leave the selected test's path free of other
// side effects: t's parent tests run again in the child. t's name must not
// itself contain "/" beyond the subtest separators.
func ExpectFailure(t *testing.T, fn func(t *testing.T), want ...string) {
	t.Helper()
	if os.Getenv(expectFailureEnv) == t.Name() {
		fn(t) // the child: this is expected to fail
		return
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	args := []string{"-test.run=" + strings.Join(parts, "/"), "-test.count=1"}
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
		args = append(args, "-test.timeout="+max(time.Until(deadline), time.Second).Round(time.Second).String())
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), expectFailureEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("porttest: %s was expected to fail in a child process, but it did not (err %v); its output:\n%s", t.Name(), err, out)
	}
	missing := []string{}
	for _, w := range append([]string{"--- FAIL: " + t.Name()}, want...) {
		if !strings.Contains(string(out), w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("porttest: %s failed in a child process, but its output lacks %q; its output:\n%s", t.Name(), missing, out)
	}
}
