package localfs_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/ports"
)

// outside returns a directory beside the store's root holding a valid
// object file "secret" (written by another store, so a store that followed
// a link to it would happily serve it).
func outside(t *testing.T) (dir string, secret []byte) {
	t.Helper()
	dir = t.TempDir()
	o, err := localfs.Open(dir, localfs.Options{})
	require.NoError(t, err)
	defer o.Close()
	secret = []byte("outside the root: must never be served")
	require.NoError(t, o.Put(t.Context(), "secret", strings.NewReader(string(secret)), int64(len(secret)), "text/plain"))
	require.FileExists(t, filepath.Join(dir, "secret.o"))
	return dir, secret
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		require.NoError(t, err)
		names = append(names, p)
		return nil
	}))
	return names
}

func TestSymlinkEscapeIsRefused(t *testing.T) {
	ctx := t.Context()
	out, secret := outside(t)
	before := listDir(t, out)
	s := newServed(t, nil)

	// A directory link out of the root, and a file link to an object file
	// out of the root.
	require.NoError(t, os.Symlink(out, filepath.Join(s.dir, "shops.d")))
	require.NoError(t, os.Symlink(filepath.Join(out, "secret.o"), filepath.Join(s.dir, "leak.o")))

	for _, key := range []string{"shops/secret", "leak"} {
		rc, _, err := s.Get(ctx, key, 0, -1)
		if rc != nil {
			_ = rc.Close()
		}
		require.ErrorIs(t, err, ports.ErrForbidden, "Get %q through a link", key)
		_, err = s.Stat(ctx, key)
		require.ErrorIs(t, err, ports.ErrForbidden, "Stat %q through a link", key)
		require.ErrorIs(t, s.Delete(ctx, key), ports.ErrForbidden, "Delete %q through a link", key)

		u, err := s.SignedURL(ctx, http.MethodGet, key, time.Minute, ports.SignedURLOptions{})
		require.NoError(t, err)
		resp, err := http.Get(u)
		require.NoError(t, err)
		body := readAll(t, resp.Body)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "signed GET of %q through a link", key)
		assert.NotContains(t, string(body), string(secret))
	}
	err := s.Put(ctx, "shops/planted", strings.NewReader("x"), 1, "")
	require.ErrorIs(t, err, ports.ErrForbidden, "Put through a directory link")
	require.ErrorIs(t, s.Put(ctx, "leak", strings.NewReader("x"), 1, ""), ports.ErrForbidden, "Put over a file link")

	page, err := s.List(ctx, "", "", 0)
	require.NoError(t, err)
	assert.Empty(t, page.Objects, "links are not listed")
	assert.Equal(t, before, listDir(t, out), "nothing outside the root was created or removed")
	got, err := os.ReadFile(filepath.Join(out, "secret.o"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), string(secret)), "the outside file is intact")
}

// TestSymlinkWithinRootIsRefused: a link from one shop's directory to
// another's stays inside the root (os.Root alone would follow it) but would
// join two tenants' prefixes.
func TestSymlinkWithinRootIsRefused(t *testing.T) {
	ctx := t.Context()
	s := newServed(t, nil)
	require.NoError(t, s.Put(ctx, "shops/a/doc", strings.NewReader("shop a's"), 8, ""))
	require.NoError(t, os.Symlink("a.d", filepath.Join(s.dir, "shops.d", "b.d")))

	rc, _, err := s.Get(ctx, "shops/b/doc", 0, -1)
	if rc != nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, ports.ErrForbidden)
	require.ErrorIs(t, s.Put(ctx, "shops/b/new", strings.NewReader("x"), 1, ""), ports.ErrForbidden)
	_, err = os.Stat(filepath.Join(s.dir, "shops.d", "a.d", "new.o"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing was written into shop a through the link")
	page, err := s.List(ctx, "shops/", "", 0)
	require.NoError(t, err)
	require.Len(t, page.Objects, 1)
	assert.Equal(t, "shops/a/doc", page.Objects[0].Key)
}

// TestTraversalKeysTouchNothingOutside drives every method with traversal
// keys and checks the file system on both sides of the root afterwards.
func TestTraversalKeysTouchNothingOutside(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	root := filepath.Join(parent, "objects")
	s, err := localfs.Open(root, localfs.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, os.WriteFile(filepath.Join(parent, "victim.o"), []byte("victim"), 0o600))
	before := listDir(t, parent)

	keys := []string{
		"../victim", "../../victim", "a/../../victim", "/" + filepath.Join(parent, "victim"),
		`..\victim`, "a/..", "..", "./../victim", "a/./../../victim", "victim\x00.o",
	}
	for _, key := range keys {
		assert.ErrorIs(t, s.Put(ctx, key, strings.NewReader("pwned"), 5, ""), ports.ErrInvalid, "Put %q", key)
		_, _, err := s.Get(ctx, key, 0, -1)
		assert.ErrorIs(t, err, ports.ErrInvalid, "Get %q", key)
		assert.ErrorIs(t, s.Delete(ctx, key), ports.ErrInvalid, "Delete %q", key)
	}
	for _, prefix := range []string{"../", "../../", "a/../../"} {
		_, err := s.List(ctx, prefix, "", 0)
		assert.ErrorIs(t, err, ports.ErrInvalid, "List %q", prefix)
	}
	assert.Equal(t, before, listDir(t, parent))
	got, err := os.ReadFile(filepath.Join(parent, "victim.o"))
	require.NoError(t, err)
	assert.Equal(t, "victim", string(got))
}
