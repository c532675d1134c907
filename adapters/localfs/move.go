package localfs

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/stockadehq/stockade/ports"
)

// Move implements ports.ObjectStore with one rename: the object file
// (body and trailer) changes its name, so dst is replaced atomically and
// src is gone in the same step. A signed PUT to src after Move writes a
// new temporary file and renames it to src's name; dst's file is never
// written again. Of two concurrent Moves of one src, the second finds
// nothing to rename: ErrNotFound. Directories src leaves empty are
// removed as Delete removes them.
func (s *Store) Move(ctx context.Context, src, dst string) error {
	if err := ports.ValidateMove(src, dst); err != nil {
		return mapErr("move", src, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localfs: move %q: %w", src, err)
	}
	from, to := objectPath(src), objectPath(dst)
	if err := s.checkNoSymlinks(from, false); err != nil {
		return mapErr("move", src, err)
	}
	dir := parentDir(to)
	var err error
	for range 5 {
		if err = s.makeDir(dir); err != nil {
			return mapErr("move", dst, err)
		}
		if fi, lerr := s.root.Lstat(to); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return mapErr("move", dst, ErrSymlink)
		}
		if err = s.root.Rename(from, to); err == nil {
			break
		}
		if !isNotExist(err) {
			return mapErr("move", src, err)
		}
		// Either src is gone or a concurrent Delete removed dst's empty
		// directory between makeDir and the rename: retry only the latter.
		if _, serr := s.root.Lstat(from); serr != nil {
			return mapErr("move", src, serr)
		}
	}
	if err != nil {
		return mapErr("move", src, err)
	}
	if err := s.syncDir(dir); err != nil {
		return mapErr("move", dst, err)
	}
	srcDir := parentDir(from)
	if srcDir != dir {
		if err := s.syncDir(srcDir); err != nil && !isNotExist(err) {
			return mapErr("move", src, err)
		}
	}
	s.removeEmptyDirs(srcDir)
	return nil
}

// makeDir creates the root-relative directory dir (and its parents),
// refusing links on its path before and after.
func (s *Store) makeDir(dir string) error {
	if err := s.checkNoSymlinks(dir, true); err != nil {
		return err
	}
	if err := s.root.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return s.checkNoSymlinks(dir, false)
}

// removeEmptyDirs removes dir and its parents up to the root while they
// are empty.
func (s *Store) removeEmptyDirs(dir string) {
	for ; dir != "."; dir = parentDir(dir) {
		if s.root.Remove(dir) != nil {
			return // not empty (or gone): stop climbing
		}
	}
}
