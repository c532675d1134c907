package testinfra

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
)

// findGoBinary returns the test server binary named by the environment
// variable env, else name on PATH, else name in the first $GOPATH/bin
// (where `go install`, and so .ci/run, puts it). A set but unusable
// variable is an error, not an absence; a binary found nowhere is
// unavailable (a skip, or a failure under STOCKADE_REQUIRE_INTEGRATION).
func findGoBinary(env, name string) (string, error) {
	if bin := os.Getenv(env); bin != "" {
		if !isExecutable(bin) {
			return "", fmt.Errorf("%s=%s is not an executable file", env, bin)
		}
		return bin, nil
	}
	if bin, err := exec.LookPath(name); err == nil {
		return bin, nil
	}
	// GOPATH may list several directories; go install uses the first.
	if gopath := filepath.SplitList(build.Default.GOPATH); len(gopath) > 0 {
		if bin := filepath.Join(gopath[0], "bin", name); isExecutable(bin) {
			return bin, nil
		}
	}
	return "", unavailable("%s not found via $%s, on PATH or in $GOPATH/bin", name, env)
}
