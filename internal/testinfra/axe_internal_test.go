package testinfra

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadAxe: an unset STOCKADE_TEST_AXE_JS is an absence (skip, or a
// failure under STOCKADE_REQUIRE_INTEGRATION=1); a file that is missing
// or is not axe-core is a broken setup, never a skip.
func TestReadAxe(t *testing.T) {
	_, err := readAxe("")
	_, absent := errors.AsType[*unavailableError](err)
	require.True(t, absent, "unset: %v", err)

	dir := t.TempDir()
	_, err = readAxe(filepath.Join(dir, "nope.js"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, absent = errors.AsType[*unavailableError](err)
	require.False(t, absent, "a named file that is missing is not an absence")

	other := filepath.Join(dir, "other.js")
	require.NoError(t, os.WriteFile(other, []byte("console.log(1)"), 0o600))
	_, err = readAxe(other)
	require.ErrorContains(t, err, "is not axe-core's axe.min.js")

	axe := filepath.Join(dir, "axe.min.js")
	src := "/*! axe v" + AxeVersion + " */ window.axe={};"
	require.NoError(t, os.WriteFile(axe, []byte(src), 0o600))
	got, err := readAxe(axe)
	require.NoError(t, err)
	require.Equal(t, src, got)
}
