package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockadehq/stockade/app"
)

// entries lists every path under root, relative, sorted.
func entries(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrepareDataDirCreates(t *testing.T) {
	root := t.TempDir()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(root, "a", "b", "data")
	if err := app.PrepareDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "a/b", "a/b/data", "a/b/data/objects"}
	if got := entries(t, root); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("created %v, want %v (and no probe file left)", got, want)
	}
	fi, err := os.Stat(cfg.DataDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	// Idempotent on existing directories.
	if err := app.PrepareDataDir(cfg); err != nil {
		t.Errorf("second PrepareDataDir: %v", err)
	}
}

func TestPrepareDataDirCustomObjectsDir(t *testing.T) {
	root := t.TempDir()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(root, "data")
	cfg.Objects.URL = "file://" + filepath.ToSlash(filepath.Join(root, "blobs", "objects"))
	cfg.Database.URL = "sqlite://" + filepath.ToSlash(filepath.Join(root, "db", "x.db"))
	if err := app.PrepareDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{"blobs", "blobs/objects", "data", "db"}
	if got := entries(t, root); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("created %v, want %v", got, want)
	}
}

func TestPrepareDataDirParentIsFile(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := app.Default()
	cfg.DataDir = filepath.Join(file, "data")
	err := app.PrepareDataDir(cfg)
	if err == nil {
		t.Fatal("PrepareDataDir under a regular file succeeded")
	}
	for _, want := range []string{"STOCKADE_DATA_DIR", cfg.DataDir, "not a directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := entries(t, root); len(got) != 1 || got[0] != "file" {
		t.Errorf("left behind %v, want only the file", got)
	}
}

func TestPrepareDataDirRollsBack(t *testing.T) {
	root := t.TempDir()
	blocker := filepath.Join(root, "objects")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := app.Default()
	cfg.DataDir = filepath.Join(root, "new", "data")
	// The data dir can be created, the objects dir cannot: a regular file
	// sits where it should go.
	cfg.Objects.URL = "file://" + filepath.ToSlash(blocker)
	err := app.PrepareDataDir(cfg)
	if err == nil {
		t.Fatal("PrepareDataDir succeeded, want the objects dir to fail")
	}
	for _, want := range []string{"STOCKADE_OBJECTS_URL", blocker, "not a directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := entries(t, root); len(got) != 1 || got[0] != "objects" {
		t.Errorf("left behind %v, want the created data dir and its parent removed", got)
	}
}

func TestPrepareDataDirKeepsExisting(t *testing.T) {
	root := t.TempDir()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(root, "data")
	if err := os.Mkdir(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	objects := filepath.Join(cfg.DataDir, "objects")
	if err := os.WriteFile(objects, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := app.PrepareDataDir(cfg)
	if err == nil || !strings.Contains(err.Error(), "STOCKADE_DATA_DIR") || !strings.Contains(err.Error(), objects) {
		t.Fatalf("PrepareDataDir = %v, want an error naming STOCKADE_DATA_DIR and %s", err, objects)
	}
	if got := entries(t, root); strings.Join(got, ",") != "data,data/objects" {
		t.Errorf("entries = %v, want the pre-existing data dir and file untouched", got)
	}
}
