package cli_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportCommands: an operator's export through the CLI needs a reason,
// verifies offline with the public key alone, fails once tampered, and
// shows in the shop's access review.
func TestExportCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"STOCKADE_DATA_DIR=" + dir}
	for _, slug := range []string{"acme", "bravo"} {
		_, err := runIn(t, env, "", "shop", "create", "--slug", slug, "--name", slug)
		require.NoError(t, err)
	}
	archive := filepath.Join(t.TempDir(), "acme.zip")
	_, err := runIn(t, env, "", "export", "create", "--shop", "acme", "--out", archive)
	require.Error(t, err, "no reason")
	_, err = os.Stat(archive)
	require.True(t, os.IsNotExist(err), "no archive without a reason")

	_, err = runIn(t, env, "", "export", "create", "--shop", "acme", "--reason", "customer request 12", "--out", archive)
	require.NoError(t, err)
	vkey, err := runIn(t, env, "", "audit", "public-key")
	require.NoError(t, err)
	vkey = strings.TrimSpace(vkey)

	out, err := runIn(t, nil, "", "export", "verify", archive, "--verifier-key", vkey)
	require.NoError(t, err, out)
	assert.Contains(t, out, "ok: shop acme")

	// Tamper: rewrite the archive with one row line changed.
	b, err := os.ReadFile(archive)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	changed := false
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		body, err := io.ReadAll(rc)
		require.NoError(t, err)
		if !changed && strings.HasPrefix(f.Name, "rows/") && bytes.Contains(body, []byte("acme")) {
			body, changed = bytes.Replace(body, []byte("acme"), []byte("acmf"), 1), true
		}
		e, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = e.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.True(t, changed)
	bad := filepath.Join(t.TempDir(), "bad.zip")
	require.NoError(t, os.WriteFile(bad, buf.Bytes(), 0o600))
	out, err = runIn(t, nil, "", "export", "verify", bad, "--verifier-key", vkey)
	require.Error(t, err)
	assert.Contains(t, out, "PROBLEM rows/")

	out, err = runIn(t, env, "", "audit", "access-review", "--shop", "acme", "--format", "csv")
	require.NoError(t, err)
	assert.Contains(t, out, "shop.exported")
	assert.Contains(t, out, "customer request 12")
	out, err = runIn(t, env, "", "audit", "access-review", "--shop", "bravo")
	require.NoError(t, err)
	assert.NotContains(t, out, "shop.exported", "bravo was not exported")
}

// TestExportLinkCommand: an operator's delivered export needs a reason,
// and prints one link to the archive on the shop's host; the archive is
// in the data directory's object store under the shop's prefix.
func TestExportLinkCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"STOCKADE_DATA_DIR=" + dir, "STOCKADE_HTTP_PUBLIC_URL=https://stockade.test"}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "export", "link", "--shop", "acme")
	require.Error(t, err, "no reason")
	out, err := runIn(t, env, "", "export", "link", "--shop", "acme", "--reason", "customer request 13")
	require.NoError(t, err)
	link := strings.TrimSpace(out)
	assert.True(t, strings.HasPrefix(link, "https://acme.stockade.test/exports/download?token="), link)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line: the link")
	var archives []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(filepath.ToSlash(path), "/_exports.d/") && strings.HasSuffix(path, ".zip.o") {
			archives = append(archives, path)
		}
		return err
	}))
	assert.Len(t, archives, 1, "the archive is stored under the shop's prefix (localfs: shops.d/{shop}.d/_exports.d/)")
}
