package testinfra

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// registry records the servers this package started in the current test
// binary, so they are started once, shared by all tests and stopped by Main.
// It is the package's only mutable global state.
type registry struct {
	mu      sync.Mutex
	active  bool // Main is running the tests; helpers may start servers
	closed  bool // Main has stopped everything; helpers must not start servers
	spawner *spawner

	pg    *pgCluster
	pgErr error // a failed cluster start, reported to every later caller

	minio    *minioServer
	minioErr error // a failed server start, reported to every later caller

	stripeMock    *stripeMockServer
	stripeMockErr error // a failed server start, reported to every later caller

	localKMS    *localKMSServer
	localKMSErr error // a failed server start, reported to every later caller

	// skips counts the tests skipped through Missing, per missing part,
	// for Main's summary line.
	skips []*skipTally
}

var reg registry

// Main runs m and then stops every process the helpers started and removes
// their temporary directories. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }
//
// It returns m.Run's exit code, or 1 instead of 0 when shutdown fails (a
// server crashed during the run or had to be killed); the reason is printed
// to stderr. It must be called at most once per test binary; the helpers
// fail the calling test if Main is not running.
//
// When tests skipped through [Missing], Main prints one summary line
// after the run, which a plain `go test ./...` shows too (see
// printSkipSummary):
//
//	testinfra: example.com/app: 3 tests skipped: 2 need stripe-mock [to get it: …], 1 needs MinIO [to get it: …]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures
func Main(m *testing.M) int {
	if err := reg.begin(); err != nil {
		fmt.Fprintf(os.Stderr, "testinfra: %v\n", err)
		return 2
	}
	code := m.Run()
	printSkipSummary(reg.skipSummary(testPackage()))
	if err := reg.shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "testinfra: shutdown: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func (r *registry) begin() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active || r.closed {
		return errors.New("Main called more than once")
	}
	r.active = true
	return nil
}

// checkLocked reports whether helpers may start servers now. r.mu must be
// held.
func (r *registry) checkLocked() error {
	switch {
	case r.closed:
		return errors.New("testinfra.Main has already shut down; helpers cannot be used after the tests have run")
	case !r.active:
		return errors.New("testinfra helpers need TestMain to call os.Exit(testinfra.Main(m)), which stops the servers they start")
	}
	return nil
}

// spawnerLocked returns the process spawner, starting it on first use. r.mu
// must be held.
func (r *registry) spawnerLocked() *spawner {
	if r.spawner == nil {
		r.spawner = newSpawner()
	}
	return r.spawner
}

// shutdown stops every server and removes its files. Errors from individual
// servers are joined; all servers are stopped regardless.
func (r *registry) shutdown() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active = false
	r.closed = true
	var errs []error
	if r.pg != nil {
		if err := r.pg.close(); err != nil {
			errs = append(errs, fmt.Errorf("postgres: %w", err))
		}
		r.pg = nil
	}
	if r.minio != nil {
		if err := r.minio.close(); err != nil {
			errs = append(errs, fmt.Errorf("minio: %w", err))
		}
		r.minio = nil
	}
	if r.stripeMock != nil {
		if err := r.stripeMock.close(); err != nil {
			errs = append(errs, fmt.Errorf("stripe-mock: %w", err))
		}
		r.stripeMock = nil
	}
	if r.localKMS != nil {
		if err := r.localKMS.close(); err != nil {
			errs = append(errs, fmt.Errorf("local-kms: %w", err))
		}
		r.localKMS = nil
	}
	if r.spawner != nil {
		r.spawner.shutdown()
		r.spawner = nil
	}
	return errors.Join(errs...)
}
