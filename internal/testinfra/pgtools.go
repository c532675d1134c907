package testinfra

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	pgToolsPart  = "PostgreSQL client tools"
	pgToolsHowto = "apt-get install postgresql (pg_dump, pg_restore and psql come with it), or set STOCKADE_TEST_PG_BIN"
)

// PostgresTool returns the path of the PostgreSQL program name (pg_dump,
// pg_restore, psql, …) of the installation [StartPostgres] starts its
// cluster from, so that client and server versions agree: the directory
// in STOCKADE_TEST_PG_BIN when set, else the directory holding the initdb
// StartPostgres would run, else PATH. A program found nowhere goes
// through [Missing] (a skip, or a failure under
// STOCKADE_REQUIRE_INTEGRATION=1); a set STOCKADE_TEST_PG_BIN without it
// fails the test.
func PostgresTool(t testing.TB, name string) string {
	t.Helper()
	path, err := findPostgresTool(name)
	if err != nil {
		failStart(t, pgToolsPart, pgToolsHowto, err)
		return ""
	}
	return path
}

// findPostgresTool is PostgresTool's search. The error is an
// *unavailableError when the program is absent, and a plain error when
// STOCKADE_TEST_PG_BIN names a directory without it.
func findPostgresTool(name string) (string, error) {
	if dir := os.Getenv(pgBinEnv); dir != "" {
		p := filepath.Join(dir, name)
		if !isExecutable(p) {
			return "", fmt.Errorf("%s=%s: %s is not an executable file", pgBinEnv, dir, p)
		}
		return p, nil
	}
	if initdb, _, err := findPostgresBinaries(); err == nil {
		if p := filepath.Join(filepath.Dir(initdb), name); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", unavailable("%s not found next to initdb, on PATH or in $%s", name, pgBinEnv)
		}
		return "", fmt.Errorf("look up %s: %w", name, err)
	}
	return p, nil
}
