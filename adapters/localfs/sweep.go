package localfs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.PartialSweeper = (*Store)(nil)

// SweepPartial implements ports.PartialSweeper: it deletes the temporary
// files (".tmp") that a Put, signed PUT or the process itself left behind
// when it was cut off, if the file system last modified them before
// before, and removes directories left empty. A Put in progress keeps
// writing its temporary file, so a before well in the past (housekeeping
// passes hours) never takes one from under it. Links and foreign files
// are left alone.
func (s *Store) SweepPartial(ctx context.Context, before time.Time) (int, error) {
	n, err := s.sweepDir(ctx, ".", before)
	if err != nil {
		return n, mapErr("sweep", "", err)
	}
	return n, nil
}

// sweepDir sweeps rel and its subdirectories.
func (s *Store) sweepDir(ctx context.Context, rel string, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("localfs: sweep: %w", err)
	}
	d, err := s.root.Open(rel)
	if err != nil {
		if isNotExist(err) {
			return 0, nil // removed while sweeping
		}
		return 0, err
	}
	des, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	removed := false
	for _, de := range des {
		name := de.Name()
		child := name
		if rel != "." {
			child = rel + "/" + name
		}
		switch {
		case de.Type().IsDir() && strings.HasSuffix(name, dirSuffix):
			m, err := s.sweepDir(ctx, child, before)
			n += m
			if err != nil {
				return n, err
			}
		case de.Type().IsRegular() && strings.HasPrefix(name, "~") && strings.HasSuffix(name, tmpSuffix):
			fi, err := de.Info()
			if err != nil || !fi.ModTime().Before(before) {
				continue // gone, or possibly still being written
			}
			if err := s.root.Remove(child); err != nil {
				if isNotExist(err) {
					continue
				}
				return n, err
			}
			n++
			removed = true
		}
	}
	if removed {
		s.removeEmptyDirs(rel)
	}
	return n, nil
}
