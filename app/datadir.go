package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// dirMode keeps the data directory private: it holds the database.
const dirMode = 0o700

// PrepareDataDir makes sure the directories cfg points at exist and are
// writable: DataDir, the directory of a SQLite database file, and the local
// objects directory of a file:// objects URL. Missing directories are
// created (mode 0700); writability is proven by creating and removing a
// probe file.
//
// It is all or nothing: on failure it removes exactly the directories this
// call created, deepest first, and leaves everything that existed before
// alone. The error names the setting (STOCKADE_DATA_DIR, or the URL setting
// for a directory outside the data dir), the path and the OS reason. cfg
// must be valid (see Config.Validate).
func PrepareDataDir(cfg Config) (err error) {
	var created []string
	defer func() {
		if err != nil {
			for i := len(created) - 1; i >= 0; i-- {
				_ = os.Remove(created[i]) // empty: we made it and put nothing in it to stay
			}
		}
	}()
	for _, d := range dataDirs(cfg) {
		made, err := mkdirAll(d.path)
		created = append(created, made...)
		if err != nil {
			return fmt.Errorf("%s: cannot create %s: %w", d.setting, d.path, err)
		}
		if err := probeWritable(d.path); err != nil {
			return fmt.Errorf("%s: %s is not writable: %w", d.setting, d.path, err)
		}
	}
	return nil
}

// dataDir is one directory PrepareDataDir prepares, and the setting that
// put it there.
type dataDir struct {
	setting string
	path    string
}

// dataDirs lists the directories cfg needs, DataDir first.
func dataDirs(cfg Config) []dataDir {
	dirs := []dataDir{{setting: "STOCKADE_DATA_DIR", path: absDir(cfg.DataDir)}}
	if cfg.Database.URL != "" && schemeOf(cfg.Database.URL) == schemeSQLite {
		if p, err := sqliteFile(cfg.Database.URL); err == nil && p != "" {
			dirs = append(dirs, dataDir{setting: "STOCKADE_DATABASE_URL", path: absDir(filepath.Dir(p))})
		}
	}
	if cfg.Objects.URL == "" {
		dirs = append(dirs, dataDir{setting: "STOCKADE_DATA_DIR", path: cfg.defaultObjectsDir()})
	} else if schemeOf(cfg.Objects.URL) == schemeFile {
		if p, err := objectsDir(cfg.Objects.URL); err == nil {
			dirs = append(dirs, dataDir{setting: "STOCKADE_OBJECTS_URL", path: absDir(p)})
		}
	}
	return dirs
}

// mkdirAll creates path and its missing parents, like os.MkdirAll, and
// returns the directories it created, outermost first, also on failure.
func mkdirAll(path string) ([]string, error) {
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return nil, &fs.PathError{Op: "mkdir", Path: p, Err: errors.New("exists and is not a directory")}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], dirMode)
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := os.Stat(missing[i]); serr == nil && fi.IsDir() {
				continue // made concurrently by someone else: not ours to remove
			}
		}
		if err != nil {
			return created, err
		}
		created = append(created, missing[i])
	}
	return created, nil
}

// probeWritable creates and removes a file in dir.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".stockade-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	return errors.Join(cerr, rerr)
}
