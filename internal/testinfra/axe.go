package testinfra

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

const (
	axePart = "axe-core"
	// AxeVersion is the axe-core release the accessibility tests load;
	// keep in step with AXE_VERSION in .ci/run.
	AxeVersion = "4.14.1"
	axeHowto   = "npm install --no-save --prefix DIR axe-core@" + AxeVersion +
		" and set " + axeEnv + "=DIR/node_modules/axe-core/axe.min.js (.ci/run does)"

	// axeEnv names the file of axe-core's browser script (axe.min.js).
	axeEnv = "STOCKADE_TEST_AXE_JS"
)

// AxeSource returns the text of axe-core's browser script, read from the
// file STOCKADE_TEST_AXE_JS names, for a browser test to evaluate in a
// page (then call axe.run). An unset variable goes through [Missing]:
// the test skips, or fails under STOCKADE_REQUIRE_INTEGRATION=1; a set
// variable naming a file that cannot be read, or that is not axe-core,
// fails the test.
func AxeSource(t testing.TB) string {
	t.Helper()
	src, err := readAxe(os.Getenv(axeEnv))
	if err != nil {
		failStart(t, axePart, axeHowto, err)
		return ""
	}
	return src
}

// readAxe reads the axe-core script at path; an empty path is an
// *unavailableError, anything else that goes wrong is a plain error.
func readAxe(path string) (string, error) {
	if path == "" {
		return "", unavailable("$%s is not set", axeEnv)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w", axeEnv, path, err)
	}
	if !bytes.HasPrefix(b, []byte("/*! axe v")) {
		return "", fmt.Errorf("%s=%s is not axe-core's axe.min.js (it does not start with its /*! axe v… banner)", axeEnv, path)
	}
	return string(b), nil
}
