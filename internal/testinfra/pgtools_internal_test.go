package testinfra

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindPostgresTool: STOCKADE_TEST_PG_BIN wins, and a directory
// without the program is an error, not an absence; without it, a program
// nowhere to be found is an absence (Missing skips or fails the test).
func TestFindPostgresTool(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "pg_fake_tool")
	require.NoError(t, os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv(pgBinEnv, dir)
	got, err := findPostgresTool("pg_fake_tool")
	require.NoError(t, err)
	assert.Equal(t, tool, got)

	_, err = findPostgresTool("pg_other_tool")
	require.Error(t, err)
	_, absent := errors.AsType[*unavailableError](err)
	assert.False(t, absent, "a set STOCKADE_TEST_PG_BIN without the program is a broken setup: %v", err)
	assert.Contains(t, err.Error(), pgBinEnv)

	t.Setenv(pgBinEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, err = findPostgresTool("pg_no_such_tool_anywhere")
	_, absent = errors.AsType[*unavailableError](err)
	assert.True(t, absent, "%v", err)
}
