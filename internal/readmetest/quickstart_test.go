package readmetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stockadehq/stockade/internal/testinfra"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }

// step is one quick start block and the output the README shows for it.
type step struct {
	block
	want []string // the output block's lines; empty when it has none
}

// quickStart returns the README's quick start steps in order.
func quickStart(md string) []step {
	var out []step
	for _, b := range fences(md) {
		switch {
		case b.lang == "sh" && b.has("quickstart"):
			out = append(out, step{block: b})
		case b.lang == "text" && b.has("output") && len(out) > 0 && out[len(out)-1].want == nil:
			out[len(out)-1].want = lines(b.text)
		}
	}
	return out
}

// lines splits text into lines without trailing spaces, dropping blank
// lines at its start and end.
func lines(text string) []string {
	out := strings.Split(text, "\n")
	for i := range out {
		out[i] = strings.TrimRight(out[i], " \t\r")
	}
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// linePattern turns a line of a README output block into a regular
// expression for a line of real output: "…" stands for any text, a run of
// spaces for any run of spaces, everything else for itself.
func linePattern(want string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	for i, part := range strings.Split(want, "…") {
		if i > 0 {
			sb.WriteString(".*?")
		}
		for j, word := range regexp.MustCompile(` +`).Split(part, -1) {
			if j > 0 {
				sb.WriteString(" +")
			}
			sb.WriteString(regexp.QuoteMeta(word))
		}
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}

// matchOutput reports how got differs from the README's want, or "".
func matchOutput(want, got []string) string {
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("output line %d missing, want %q", i+1, want[i])
		case i >= len(want):
			return fmt.Sprintf("output line %d is %q, which the README does not show", i+1, got[i])
		case !linePattern(want[i]).MatchString(got[i]):
			return fmt.Sprintf("output line %d is %q, the README shows %q", i+1, got[i], want[i])
		}
	}
	return ""
}

func TestLinePattern(t *testing.T) {
	cases := []struct {
		want, got string
		ok        bool
	}{
		{`created shop acme (…)`, `created shop acme (01a2-…)`, true},
		{`created shop acme (…)`, `created shop acme`, false},
		{`{"id":"…","size":15}`, `{"id":"abc","size":15}`, true},
		{`{"id":"…","size":15}`, `{"id":"abc","size":16}`, false},
		{`1    …Z  system:cli  shop.created`, `1    2026-12-06T06:50:23Z  system:cli          shop.created`, true},
		{`1 system:cli`, `1system:cli`, false},
		{`a.b`, `axb`, false},
	}
	for _, c := range cases {
		if got := linePattern(c.want).MatchString(c.got); got != c.ok {
			t.Errorf("linePattern(%q).MatchString(%q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
	if d := matchOutput([]string{"a", "b"}, []string{"a"}); !strings.Contains(d, "line 2 missing") {
		t.Errorf("matchOutput with a line missing = %q", d)
	}
	if d := matchOutput([]string{"a"}, []string{"a", "b"}); !strings.Contains(d, "does not show") {
		t.Errorf("matchOutput with an extra line = %q", d)
	}
}

// stepMark is printed between the quick start's steps to split the output.
const stepMark = "@@readmetest: end of quick start step@@"

// TestQuickStart runs the README's quick start as written, all its blocks
// in one bash process in order (as a reader types them into one
// terminal), from the repository's root: it builds the binary, creates a
// user and a shop, starts the server, signs in with curl, calls an
// authenticated route, uploads and fetches a file, mints and uses a public
// link and verifies the audit log. The test sets only what the README
// leaves to the reader: PORT (a free port) and TMPDIR (so that mktemp -d
// lands in the test's own directory); STOCKADE_* settings of the
// surrounding environment are removed. Each step's output must match the
// README's output block for it (a step without one must print nothing),
// and every command must succeed (bash -e -u -o pipefail).
func TestQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			testinfra.Missing(t, tool, "the quick start's commands need it: "+err.Error(), "install "+tool+" (apt-get install "+tool+")")
		}
	}
	root := repoRoot(t)
	steps := quickStart(readFile(t, root, "README.md"))
	if len(steps) < 5 {
		t.Fatalf("the README's quick start has %d steps; want the whole walk (build, user and shop, server, sign-in, …)", len(steps))
	}
	var script strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&script, "# step %d, README.md line %d\n%s", i+1, s.line, s.text)
		fmt.Fprintf(&script, "printf '\\n%%s\\n' '%s %d'\n", stepMark, i+1)
	}

	port := freePort(t)
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-u", "-o", "pipefail", "-c", script.String())
	cmd.Dir = root
	cmd.Env = append(cleanEnv(), "PORT="+strconv.Itoa(port), "TMPDIR="+tmp)
	// Its own process group, so that the server it starts in the
	// background is stopped with it whatever happens.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	runErr := cmd.Wait()

	// Split the output at the marks; a step that failed has none after it.
	outputs := strings.Split(stdout.String(), "\n"+stepMark+" ")
	for i, s := range steps {
		out := outputs[min(i, len(outputs)-1)]
		if i > 0 {
			_, out, _ = strings.Cut(out, "\n") // the number of the mark before
		}
		if i >= len(outputs)-1 {
			t.Fatalf("step %d (README.md line %d) did not finish: %v\nits output:\n%s\nstderr:\n%s",
				i+1, s.line, runErr, out, stderr.String())
		}
		if d := matchOutput(s.want, lines(out)); d != "" {
			t.Errorf("step %d (README.md line %d): %s\nits whole output:\n%s", i+1, s.line, d, out)
		}
	}
	if runErr != nil {
		t.Errorf("the quick start ended with %v; stderr:\n%s", runErr, stderr.String())
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
