package testinfra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	minioPart  = "MinIO"
	minioHowto = "go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c (about 5 minutes), or set STOCKADE_TEST_MINIO_BIN / STOCKADE_TEST_S3_URL"

	// s3URLEnv names an existing S3 server, http://ACCESS:SECRET@host:port,
	// to use instead of starting MinIO.
	s3URLEnv = "STOCKADE_TEST_S3_URL"
	// minioBinEnv names the minio binary to run.
	minioBinEnv = "STOCKADE_TEST_MINIO_BIN"

	minioRegion       = "us-east-1"
	minioStartTimeout = 60 * time.Second
)

// MinIO describes an S3-compatible server reachable over plain HTTP.
type MinIO struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string // "us-east-1"
}

// StartMinIO returns a running MinIO server private to the test binary and
// shared by all tests in it; tests should use bucket names unique to
// themselves. Nothing is cleaned up between tests.
//
// The server is the one named by STOCKADE_TEST_S3_URL when set (then it is
// not private, and is not checked), and otherwise a minio binary started on
// first use with random root credentials and an empty temporary data
// directory, and stopped by [Main] (the test fails if Main is not running).
// A missing binary goes through [Missing];
// anything else that goes wrong fails the test.
func StartMinIO(t testing.TB) MinIO {
	t.Helper()
	s, err := reg.minioServer()
	if err != nil {
		failStart(t, minioPart, minioHowto, err)
		return MinIO{}
	}
	return s.info
}

// minioServer is the S3 server used by this test binary: either one it
// started (proc and dir set) or an external one.
type minioServer struct {
	info MinIO
	proc *process // nil for an external server
	dir  string   // temporary directory to remove; "" for an external server
}

// minioServer returns the binary's S3 server, starting it on first use. A
// failed start is remembered and returned to later callers.
func (r *registry) minioServer() (*minioServer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked(); err != nil {
		return nil, err
	}
	if r.minio != nil {
		return r.minio, nil
	}
	if r.minioErr != nil {
		return nil, fmt.Errorf("failed earlier in this test binary: %w", r.minioErr)
	}
	s, err := r.openMinIOLocked()
	if _, ok := errors.AsType[*unavailableError](err); ok {
		return nil, err // may differ next time; do not remember
	}
	r.minio, r.minioErr = s, err
	return s, err
}

func (r *registry) openMinIOLocked() (*minioServer, error) {
	if raw := os.Getenv(s3URLEnv); raw != "" {
		info, err := parseS3URL(raw)
		if err != nil {
			return nil, err
		}
		return &minioServer{info: info}, nil
	}
	bin, err := findGoBinary(minioBinEnv, "minio")
	if err != nil {
		return nil, err
	}
	return startMinIOServer(r.spawnerLocked(), bin)
}

// parseS3URL parses http://ACCESS:SECRET@host:port.
func parseS3URL(raw string) (MinIO, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return MinIO{}, fmt.Errorf("parse %s: %w", s3URLEnv, err)
	}
	secret, _ := u.User.Password()
	if u.Scheme != "http" || u.User.Username() == "" || secret == "" || u.Host == "" {
		return MinIO{}, fmt.Errorf("%s must look like http://ACCESS:SECRET@host:port, got %s", s3URLEnv, u.Redacted())
	}
	return MinIO{Endpoint: u.Host, AccessKey: u.User.Username(), SecretKey: secret, Region: minioRegion}, nil
}

// startMinIOServer starts bin on free ports of 127.0.0.1 with random root
// credentials and a new temporary data directory, and waits until its
// liveness endpoint reports it initialised. On error everything started is
// undone.
func startMinIOServer(sp *spawner, bin string) (_ *minioServer, err error) {
	dir, err := os.MkdirTemp("", "stockade-minio-")
	if err != nil {
		return nil, fmt.Errorf("create server directory: %w", err)
	}
	s := &minioServer{dir: dir}
	defer func() {
		if err != nil {
			if s.proc != nil && s.proc.exited() {
				s.proc = nil // its log tail is already in err
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
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	s.info = MinIO{
		Endpoint:  "127.0.0.1:" + strconv.Itoa(port),
		AccessKey: randomHex(10),
		SecretKey: randomHex(20),
		Region:    minioRegion,
	}
	cmd := exec.Command(bin, "server",
		"--address", s.info.Endpoint,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		"--certs-dir", filepath.Join(dir, "certs"), // keep it out of $HOME/.minio
		"--quiet",
		filepath.Join(dir, "data"))
	cmd.Dir = dir
	cmd.Env = append(environWithout("MINIO_"),
		"MINIO_ROOT_USER="+s.info.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.info.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	s.proc, err = startProcess(sp, "minio", cmd, filepath.Join(dir, "minio.log"))
	if err != nil {
		return nil, err
	}

	client := &http.Client{Timeout: 2 * time.Second}
	live := "http://" + s.info.Endpoint + "/minio/health/live"
	if err := waitReady(s.proc, minioStartTimeout, func(ctx context.Context) error {
		return probeMinIO(ctx, client, live)
	}); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, s.proc.logTail())
	}
	return s, nil
}

// probeMinIO returns nil when GET liveURL answers 200 without the
// "x-minio-server-status: offline" header that MinIO sends while its object
// layer is still initialising.
func probeMinIO(ctx context.Context, client *http.Client, liveURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, liveURL, nil)
	if err != nil {
		return fmt.Errorf("build liveness request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", liveURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", liveURL, resp.Status)
	}
	if status := resp.Header.Get("X-Minio-Server-Status"); status == "offline" {
		return fmt.Errorf("GET %s: server status %s", liveURL, status)
	}
	return nil
}

// environWithout returns the environment minus variables whose names start
// with prefix, so that settings of the developer's own MinIO cannot leak
// into the test server.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// close stops the server if this binary started it and removes its
// directory.
func (s *minioServer) close() error {
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
