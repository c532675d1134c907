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
	"strings"
	"testing"
	"time"
)

const (
	localKMSPart = "local-kms"
	// LocalKMSVersion is the pinned local-kms that .ci/run installs.
	LocalKMSVersion = "v0.0.0-20260228092603-2a5e92d09ab6"
	localKMSHowto   = "go install github.com/nsmithuk/local-kms@" + LocalKMSVersion + " (about a minute), or set STOCKADE_TEST_LOCALKMS_BIN"

	// localKMSBinEnv names the local-kms binary to run.
	localKMSBinEnv = "STOCKADE_TEST_LOCALKMS_BIN"

	localKMSStartTimeout = 30 * time.Second
)

// LocalKMS is a running local-kms (github.com/nsmithuk/local-kms): an
// emulator of the AWS KMS API that keeps its keys in a data directory.
// It accepts any credentials.
type LocalKMS struct {
	Endpoint  string // http://127.0.0.1:port, the API base URL
	Region    string // the region it claims, "us-east-1"
	AccountID string // the account its key ARNs name, "111122223333"
}

// StartLocalKMS returns a running local-kms shared by every test of the
// binary: the local-kms binary (STOCKADE_TEST_LOCALKMS_BIN, on PATH or in
// $GOPATH/bin) started on first use on a free port with an empty
// temporary data directory, and stopped by [Main]. Tests share it: they
// must use keys they created themselves. A missing binary goes through
// [Missing]: the test skips, or fails under STOCKADE_REQUIRE_INTEGRATION=1;
// a binary that does not start fails the test.
func StartLocalKMS(t testing.TB) LocalKMS {
	t.Helper()
	s, err := reg.localKMSServer()
	if err != nil {
		failStart(t, localKMSPart, localKMSHowto, err)
		return LocalKMS{}
	}
	return s.info
}

type localKMSServer struct {
	info LocalKMS
	proc *process
	dir  string
}

func (r *registry) localKMSServer() (*localKMSServer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked(); err != nil {
		return nil, err
	}
	if r.localKMS != nil {
		return r.localKMS, nil
	}
	if r.localKMSErr != nil {
		return nil, fmt.Errorf("failed earlier in this test binary: %w", r.localKMSErr)
	}
	bin, err := findGoBinary(localKMSBinEnv, "local-kms")
	if err != nil {
		return nil, err // unavailable: may differ next time; do not remember
	}
	s, err := startLocalKMS(r.spawnerLocked(), bin)
	r.localKMS, r.localKMSErr = s, err
	return s, err
}

// startLocalKMS starts bin on a free port with a new temporary data
// directory (and a seed file path that does not exist, so it seeds
// nothing) and waits until it answers a ListKeys call.
func startLocalKMS(sp *spawner, bin string) (_ *localKMSServer, err error) {
	dir, err := os.MkdirTemp("", "stockade-local-kms-")
	if err != nil {
		return nil, fmt.Errorf("create server directory: %w", err)
	}
	s := &localKMSServer{dir: dir}
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
	s.info = LocalKMS{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Region: "us-east-1", AccountID: "111122223333"}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(environWithout("KMS_"),
		"PORT="+strconv.Itoa(port),
		"KMS_REGION="+s.info.Region,
		"KMS_ACCOUNT_ID="+s.info.AccountID,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_SEED_PATH="+filepath.Join(dir, "no-seed.yaml"),
	)
	s.proc, err = startProcess(sp, "local-kms", cmd, filepath.Join(dir, "local-kms.log"))
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if err := waitReady(s.proc, localKMSStartTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.info.Endpoint+"/", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("ListKeys: %s", res.Status)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, s.proc.logTail())
	}
	return s, nil
}

func (s *localKMSServer) close() error {
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
