package testinfra

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindChromiumBinary: STOCKADE_TEST_CHROMIUM_BIN wins, and one that
// is not an executable is an error, not an absence; without it the
// default path is used, and a default that is not there is an absence
// (Missing skips or fails the test).
func TestFindChromiumBinary(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "chromium")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))
	missing := filepath.Join(dir, "no-such-chromium")

	t.Setenv(chromiumBinEnv, fake)
	got, err := findChromiumBinary(missing)
	require.NoError(t, err)
	assert.Equal(t, fake, got)

	t.Setenv(chromiumBinEnv, missing)
	_, err = findChromiumBinary(fake)
	require.Error(t, err)
	_, absent := errors.AsType[*unavailableError](err)
	assert.False(t, absent, "a set %s that is no executable is a broken setup: %v", chromiumBinEnv, err)

	t.Setenv(chromiumBinEnv, "")
	got, err = findChromiumBinary(fake)
	require.NoError(t, err)
	assert.Equal(t, fake, got)

	_, err = findChromiumBinary(missing)
	_, absent = errors.AsType[*unavailableError](err)
	assert.True(t, absent, "%v", err)
}
