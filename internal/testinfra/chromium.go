package testinfra

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	chromiumPart = "chromium"
	// ChromiumDefaultBin is where Debian's chromium package installs the
	// browser.
	ChromiumDefaultBin = "/usr/bin/chromium"
	chromiumHowto      = "apt-get install -y --no-install-recommends chromium, or set STOCKADE_TEST_CHROMIUM_BIN"

	// chromiumBinEnv names the Chromium binary to run.
	chromiumBinEnv = "STOCKADE_TEST_CHROMIUM_BIN"

	chromiumStartTimeout = 60 * time.Second
)

// Chromium is a headless Chromium started for one test.
type Chromium struct {
	// WebSocketURL is the DevTools endpoint of the browser
	// (ws://127.0.0.1:port/devtools/browser/…), for a DevTools client such
	// as chromedp.NewRemoteAllocator.
	WebSocketURL string
	// Bin is the binary that runs.
	Bin string
}

// StartChromium starts a headless Chromium for t, stopped (its whole
// process group) when t ends: the binary named by
// STOCKADE_TEST_CHROMIUM_BIN, else /usr/bin/chromium, with a fresh
// --user-data-dir, no sandbox, GPU, QUIC, first-run, background
// networking, component updates or sync, and DevTools on a free loopback
// port. hostRules, when not empty, is Chromium's --host-resolver-rules,
// e.g. "MAP *.localhost 127.0.0.1" to resolve every shop's host to
// loopback. A missing binary goes through [Missing]: the test skips, or
// fails under STOCKADE_REQUIRE_INTEGRATION=1; a browser that does not
// start fails the test.
func StartChromium(t testing.TB, hostRules string) Chromium {
	t.Helper()
	bin, err := findChromiumBinary(ChromiumDefaultBin)
	if err != nil {
		failStart(t, chromiumPart, chromiumHowto, err)
		return Chromium{}
	}
	reg.mu.Lock()
	if err := reg.checkLocked(); err != nil {
		reg.mu.Unlock()
		t.Fatalf("testinfra: %s: %v", chromiumPart, err)
		return Chromium{}
	}
	sp := reg.spawnerLocked()
	reg.mu.Unlock()

	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + profile,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
	}
	if hostRules != "" {
		args = append(args, "--host-resolver-rules="+hostRules)
	}
	args = append(args, "about:blank")
	cmd := exec.Command(bin, args...)
	p, err := startProcess(sp, chromiumPart, cmd, filepath.Join(dir, "chromium.log"))
	if err != nil {
		t.Fatalf("testinfra: %s: %v", chromiumPart, err)
		return Chromium{}
	}
	t.Cleanup(func() {
		if err := p.stop(stopGrace); err != nil {
			t.Logf("testinfra: %s: %v", chromiumPart, err)
		}
		// The browser's helpers (renderers, zygote) share its process
		// group: end them too before the profile directory is removed.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	})
	// Chromium writes the port it chose, and the browser's DevTools
	// path, to DevToolsActivePort in the profile once it listens.
	var ws string
	err = waitReady(p, chromiumStartTimeout, func(context.Context) error {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if err != nil {
			return err
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) < 2 {
			return fmt.Errorf("DevToolsActivePort is incomplete: %q", b)
		}
		ws = "ws://127.0.0.1:" + strings.TrimSpace(lines[0]) + strings.TrimSpace(lines[1])
		return nil
	})
	if err != nil {
		t.Fatalf("testinfra: %s: %v\n%s", chromiumPart, err, p.logTail())
		return Chromium{}
	}
	return Chromium{WebSocketURL: ws, Bin: bin}
}

// findChromiumBinary returns the binary named by
// STOCKADE_TEST_CHROMIUM_BIN, else defaultBin when it is executable. A set
// but unusable variable is an error, not an absence.
func findChromiumBinary(defaultBin string) (string, error) {
	if bin := os.Getenv(chromiumBinEnv); bin != "" {
		if !isExecutable(bin) {
			return "", fmt.Errorf("%s=%s is not an executable file", chromiumBinEnv, bin)
		}
		return bin, nil
	}
	if isExecutable(defaultBin) {
		return defaultBin, nil
	}
	return "", unavailable("chromium not found via $%s or at %s", chromiumBinEnv, defaultBin)
}
