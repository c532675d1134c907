package localfs_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// served is a store in a temporary directory with its Handler on a test
// server at /objects/.
type served struct {
	*localfs.Store
	dir string
	srv *httptest.Server
}

func newServed(t testing.TB, clock ports.Clock) served {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	dir := t.TempDir()
	s, err := localfs.Open(filepath.Join(dir, "objects"), localfs.Options{
		BaseURL:    "http://" + srv.Listener.Addr().String() + "/objects/",
		SigningKey: []byte(rand.Text() + rand.Text()),
		Clock:      clock,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/objects/", s.Handler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	return served{Store: s, dir: filepath.Join(dir, "objects"), srv: srv}
}

func TestObjectStoreConformance(t *testing.T) {
	porttest.TestObjectStore(t, func(t *testing.T, clock ports.Clock) ports.ObjectStore {
		return newServed(t, clock).Store
	})
}

func TestOpenValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name string
		dir  string
		opts localfs.Options
	}{
		{"no directory", "", localfs.Options{}},
		{"relative base url", dir, localfs.Options{BaseURL: "/objects/", SigningKey: key}},
		{"ftp base url", dir, localfs.Options{BaseURL: "ftp://host/objects/", SigningKey: key}},
		{"base url with query", dir, localfs.Options{BaseURL: "https://host/objects/?x=1", SigningKey: key}},
		{"short signing key", dir, localfs.Options{BaseURL: "https://host/objects/", SigningKey: key[:31]}},
		{"no signing key", dir, localfs.Options{BaseURL: "https://host/objects/"}},
	}
	for _, tt := range tests {
		_, err := localfs.Open(tt.dir, tt.opts)
		assert.ErrorIs(t, err, ports.ErrInvalid, tt.name)
	}
}

func TestSignedURLUnsupportedWithoutBaseURL(t *testing.T) {
	s, err := localfs.Open(t.TempDir(), localfs.Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.SignedURL(t.Context(), http.MethodGet, "a/b", time.Minute, ports.SignedURLOptions{})
	require.ErrorIs(t, err, ports.ErrUnsupported)
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{give: "file:///var/lib/stockade/objects", want: "/var/lib/stockade/objects"},
		{give: "file://./stockade-data/objects", want: "./stockade-data/objects"},
		{give: "file:rel", want: "rel"},
		{give: "file:///with%20space", want: "/with space"},
		{give: "s3://bucket", wantErr: true},
		{give: "file:///x?mode=1", wantErr: true},
		{give: "file://", wantErr: true},
		{give: "file:///a%00b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := localfs.ParseURL(tt.give)
		if tt.wantErr {
			assert.ErrorIs(t, err, ports.ErrInvalid, tt.give)
			continue
		}
		require.NoError(t, err, tt.give)
		assert.Equal(t, tt.want, got, tt.give)
	}
}

// TestLayoutOnDisk pins the file names, which operators see and backups
// keep: a key and its "directory" coexist, and nothing is written outside
// the root.
func TestLayoutOnDisk(t *testing.T) {
	s := newServed(t, nil)
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "a", strings.NewReader("1"), 1, ""))
	require.NoError(t, s.Put(ctx, "a/b", strings.NewReader("22"), 2, ""))
	require.NoError(t, s.Put(ctx, "a.d", strings.NewReader("3"), 1, ""))
	var files []string
	require.NoError(t, filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(s.dir, p)
		files = append(files, rel)
		return nil
	}))
	assert.Equal(t, []string{".", "a.d", "a.d/b.o", "a.d.o", "a.o"}, files)
	raw, err := os.ReadFile(filepath.Join(s.dir, "a.d", "b.o"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(raw, []byte("22")), "the body leads the file")

	require.NoError(t, s.Delete(ctx, "a/b"))
	_, err = os.Stat(filepath.Join(s.dir, "a.d"))
	assert.ErrorIs(t, err, os.ErrNotExist, "an emptied directory is removed")
}

// TestForeignFilesAreNotObjects: a file the store did not write (no
// trailer), a stray temporary file and a file without the object suffix
// are neither read nor listed as objects.
func TestForeignFilesAreNotObjects(t *testing.T) {
	s := newServed(t, nil)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "plain.o"), []byte("no trailer here"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "~x.tmp"), []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "stray"), []byte("x"), 0o600))
	_, err := s.Stat(t.Context(), "plain")
	require.Error(t, err)
	require.NotErrorIs(t, err, ports.ErrNotFound, "a damaged object is an error, not a missing one")
	_, err = s.List(t.Context(), "", "", 0)
	require.Error(t, err, "listing reports the damaged object rather than hiding it")
	require.NoError(t, os.Remove(filepath.Join(s.dir, "plain.o")))
	page, err := s.List(t.Context(), "", "", 0)
	require.NoError(t, err)
	assert.Empty(t, page.Objects)
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	return b
}
