package testinfra

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// skipTally counts the tests of this binary that skipped because one part
// was missing.
type skipTally struct {
	part  string // "stripe-mock", "PostgreSQL", …
	howto string // how to get it
	tests int
}

// recordSkip counts one test skipped for want of part. The tallies keep
// the order in which parts were first missed.
func (r *registry) recordSkip(part, howto string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.skips {
		if s.part == part {
			s.tests++
			return
		}
	}
	r.skips = append(r.skips, &skipTally{part: part, howto: howto, tests: 1})
}

// skipSummary returns the summary line of the skips recorded so far
// (without a newline), or "" when no test skipped. pkg, when not empty,
// names the package.
func (r *registry) skipSummary(pkg string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return summaryLine(pkg, r.skips)
}

// summaryLine renders tallies as one line, for example
//
//	testinfra: example.com/app: 3 tests skipped: 2 need stripe-mock [to get it: …], 1 needs MinIO [to get it: …]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures
//
// and returns "" when tallies is empty.
func summaryLine(pkg string, tallies []*skipTally) string {
	total := 0
	reasons := make([]string, 0, len(tallies))
	for _, s := range tallies {
		total += s.tests
		verb := "need"
		if s.tests == 1 {
			verb = "needs"
		}
		reasons = append(reasons, fmt.Sprintf("%d %s %s [to get it: %s]", s.tests, verb, s.part, s.howto))
	}
	if total == 0 {
		return ""
	}
	noun := "tests"
	if total == 1 {
		noun = "test"
	}
	var b strings.Builder
	b.WriteString("testinfra: ")
	if pkg != "" {
		b.WriteString(pkg + ": ")
	}
	fmt.Fprintf(&b, "%d %s skipped: %s; go test -v names them, %s=1 makes them failures", total, noun, strings.Join(reasons, ", "), requireEnv)
	return b.String()
}

// testPackage returns the import path of the package this test binary
// tests ("" when the build information does not say).
func testPackage() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return strings.TrimSuffix(bi.Path, ".test")
}

// printSkipSummary writes line, when not empty, where the person or CI
// job running the tests sees it. With -v (and -json) the test binary's
// own output is shown, so it goes to stdout. A plain `go test ./...`,
// however, shows a passing package's output not at all — not even what
// TestMain prints — so the line goes to the go command's own standard
// error (the parent process's descriptor 2, through /proc) — unless that
// is a regular file the line could be overwritten in (see appendsSafely)
// — or, failing that, to the controlling terminal; only when neither can
// be used does it fall back to stdout, seen with -v or when the package
// fails.
//
// go test caches a passing package's result, skips included, and a cached
// result ("ok … (cached)") replays none of this: -count=1 runs the tests
// again, and prints the line again.
func printSkipSummary(line string) {
	if line == "" {
		return
	}
	if !testing.Verbose() {
		if w := goCommandOutput(); w != nil {
			_, err := fmt.Fprintln(w, line)
			closeErr := w.Close()
			if err == nil && closeErr == nil {
				return
			}
		}
	}
	fmt.Println(line)
}

// goCommandOutput opens the standard error of the go command that runs
// this test binary, or else the controlling terminal, for appending; it
// returns nil when neither is available or when that output is the test
// binary's own (it was run directly, not by go test).
func goCommandOutput() *os.File {
	if parent := os.Getppid(); parent > 1 && isGoCommand(parent) && appendsSafely(parent, 2) {
		if f := openAppend("/proc/" + strconv.Itoa(parent) + "/fd/2"); f != nil {
			return f
		}
	}
	return openAppend("/dev/tty")
}

// appendsSafely reports whether a line appended to descriptor fd of
// process pid, through a file description of our own, stays where it is:
// true for a pipe, a terminal or another non-regular file, and for a
// regular file only when pid opened it for appending (go test ./... >>log).
// A regular file opened otherwise (go test ./... >log 2>&1) is written at
// pid's own offset, which our line would not move: pid's next write would
// overwrite it.
func appendsSafely(pid, fd int) bool {
	info, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd))
	if err != nil {
		return false
	}
	if !info.Mode().IsRegular() {
		return true
	}
	fdinfo, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(fdinfo), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&syscall.O_APPEND != 0
		}
	}
	return false
}

// isGoCommand reports whether process pid runs the go command.
func isGoCommand(pid int) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && filepath.Base(exe) == "go"
}

// openAppend opens path for appending, or returns nil when it cannot or
// when path is the file this binary's stdout or stderr already writes to.
func openAppend(path string) *os.File {
	info, err := os.Stat(path)
	if err != nil {
		return nil
	}
	for _, own := range []*os.File{os.Stdout, os.Stderr} {
		if oi, err := own.Stat(); err == nil && os.SameFile(info, oi) {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil
	}
	return f
}
