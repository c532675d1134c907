//go:build unix

package sqlite_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

// TestDatabaseFilesArePrivate: Migrate creating the database in a
// directory that already exists, under the common umask 022, used to leave
// it (and SQLite's -wal and -shm files, which copy its mode) readable by
// every local user: 0644. They are 0600.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755), "a data directory others may enter")
	path := filepath.Join(dir, "stockade.db")
	ctx := context.Background()
	_, err := sqlite.Migrate(ctx, "sqlite://"+path)
	require.NoError(t, err)
	s, err := sqlite.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "a@example.com"})
		return err
	}))
	for _, name := range []string{"stockade.db", "stockade.db-wal", "stockade.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, "%s exists while the store is open", name)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), name)
	}
}
