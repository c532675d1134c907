package testinfra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const (
	stripeMockPart = "stripe-mock"
	// StripeMockVersion is the pinned stripe-mock that .ci/run installs.
	StripeMockVersion = "v0.203.0"
	stripeMockHowto   = "go install github.com/stripe/stripe-mock@" + StripeMockVersion + " (a few seconds), or set STOCKADE_TEST_STRIPE_MOCK_BIN / STOCKADE_TEST_STRIPE_MOCK_URL"

	// stripeMockURLEnv names a running stripe-mock, http://host:port, to
	// use instead of starting one.
	stripeMockURLEnv = "STOCKADE_TEST_STRIPE_MOCK_URL"
	// stripeMockBinEnv names the stripe-mock binary to run.
	stripeMockBinEnv = "STOCKADE_TEST_STRIPE_MOCK_BIN"

	stripeMockStartTimeout = 30 * time.Second
)

// StripeMock is a running stripe-mock: Stripe's own mock of its API,
// which checks every request against Stripe's OpenAPI specification and
// answers with fixture objects (IDs of created objects are fresh).
type StripeMock struct {
	URL string // http://127.0.0.1:port, the API base URL
	// Key is an API key it accepts (any sk_test_ key does).
	Key string
}

// StartStripeMock returns a running stripe-mock shared by every test of
// the binary: the one named by STOCKADE_TEST_STRIPE_MOCK_URL, or the
// stripe-mock binary (STOCKADE_TEST_STRIPE_MOCK_BIN, on PATH or in
// $GOPATH/bin) started on first use on a free loopback port and stopped by
// [Main]. A missing binary goes through [Missing]: the test skips, or fails
// under STOCKADE_REQUIRE_INTEGRATION=1.
func StartStripeMock(t testing.TB) StripeMock {
	t.Helper()
	s, err := reg.stripeMockServer()
	if err != nil {
		failStart(t, stripeMockPart, stripeMockHowto, err)
		return StripeMock{}
	}
	return StripeMock{URL: s.url, Key: "sk_test_stockade"}
}

// OptionalStripeMock is [StartStripeMock] for a harness that can build its
// world without the Stripe-backed parts: when stripe-mock is not installed
// it returns false instead of skipping t, and the harness leaves those
// parts out. The tests, or the cases, that need them must then skip on
// their own through [StartStripeMock] or [SkipWithoutStripeMock], so that
// each is counted in [Main]'s summary. Under STOCKADE_REQUIRE_INTEGRATION=1
// a missing stripe-mock fails t, as StartStripeMock does; a stripe-mock
// that is present but does not start fails t either way.
func OptionalStripeMock(t testing.TB) (StripeMock, bool) {
	t.Helper()
	s, err := reg.stripeMockServer()
	if err == nil {
		return StripeMock{URL: s.url, Key: "sk_test_stockade"}, true
	}
	if _, ok := errors.AsType[*unavailableError](err); ok && !Require() {
		return StripeMock{}, false
	}
	failStart(t, stripeMockPart, stripeMockHowto, err)
	return StripeMock{}, false
}

// SkipWithoutStripeMock skips t when stripe-mock is unavailable — or fails
// it under STOCKADE_REQUIRE_INTEGRATION=1 — and the skip reason begins
// with left: what did not run for want of it (for example "the attack
// matrix left out the billing routes GET /billing, …"). It returns when
// stripe-mock is available. Like every skip through [Missing], it is
// counted in [Main]'s summary.
func SkipWithoutStripeMock(t testing.TB, left string) {
	t.Helper()
	if _, err := reg.stripeMockServer(); err != nil {
		failStartLeaving(t, stripeMockPart, stripeMockHowto, left, err)
	}
}

type stripeMockServer struct {
	url  string
	proc *process // nil for an external server
	dir  string
}

func (r *registry) stripeMockServer() (*stripeMockServer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked(); err != nil {
		return nil, err
	}
	if r.stripeMock != nil {
		return r.stripeMock, nil
	}
	if r.stripeMockErr != nil {
		return nil, fmt.Errorf("failed earlier in this test binary: %w", r.stripeMockErr)
	}
	s, err := r.openStripeMockLocked()
	if _, ok := errors.AsType[*unavailableError](err); ok {
		return nil, err
	}
	r.stripeMock, r.stripeMockErr = s, err
	return s, err
}

func (r *registry) openStripeMockLocked() (*stripeMockServer, error) {
	if raw := os.Getenv(stripeMockURLEnv); raw != "" {
		return &stripeMockServer{url: raw}, nil
	}
	bin, err := findGoBinary(stripeMockBinEnv, "stripe-mock")
	if err != nil {
		return nil, err
	}
	return startStripeMock(r.spawnerLocked(), bin)
}

// startStripeMock starts bin on a free port of 127.0.0.1 and waits until
// it answers an authenticated API request.
func startStripeMock(sp *spawner, bin string) (_ *stripeMockServer, err error) {
	dir, err := os.MkdirTemp("", "stockade-stripe-mock-")
	if err != nil {
		return nil, fmt.Errorf("create server directory: %w", err)
	}
	s := &stripeMockServer{dir: dir}
	defer func() {
		if err != nil {
			if s.proc != nil && s.proc.exited() {
				s.proc = nil
			}
			if closeErr := s.close(); closeErr != nil {
				err = fmt.Errorf("%w (cleanup: %v)", err, closeErr)
			}
		}
	}()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.url = "http://" + addr
	// stripe-mock also serves HTTPS, on :12112 unless told otherwise: an
	// empty port lets the system choose one, so that several instances (one
	// per test package, run in parallel) never collide.
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", "127.0.0.1:")
	cmd.Dir = dir
	s.proc, err = startProcess(sp, "stripe-mock", cmd, filepath.Join(dir, "stripe-mock.log"))
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if err := waitReady(s.proc, stripeMockStartTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/v1/customers?limit=1", nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth("sk_test_stockade", "")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /v1/customers: %s", res.Status)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, s.proc.logTail())
	}
	return s, nil
}

func (s *stripeMockServer) close() error {
	var errs []error
	if s.proc != nil {
		if err := s.proc.stop(stopGrace); err != nil {
			errs = append(errs, err)
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", s.dir, err))
		}
	}
	return errors.Join(errs...)
}
