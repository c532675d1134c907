package localfs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// List implements ports.ObjectStore. It walks the directory tree in key
// order, starting at the deepest directory the prefix names and skipping
// whole subtrees that sort before the page token, so a page costs about
// the directories on its path plus the objects it returns. Links and
// foreign files are never listed.
func (s *Store) List(ctx context.Context, prefix, pageToken string, pageSize int) (ports.ObjectPage, error) {
	if err := ports.ValidateObjectPrefix(prefix); err != nil {
		return ports.ObjectPage{}, mapErr("list", prefix, err)
	}
	after, err := ports.ParseObjectPageToken(prefix, pageToken)
	if err != nil {
		return ports.ObjectPage{}, mapErr("list", prefix, err)
	}
	if pageSize <= 0 || pageSize > ports.MaxListPageSize {
		pageSize = ports.MaxListPageSize
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectPage{}, fmt.Errorf("localfs: list %q: %w", prefix, err)
	}
	w := walker{s: s, ctx: ctx, prefix: prefix, after: after, limit: pageSize + 1}
	dirSegs, _, _ := cutLast(prefix, "/")
	start := ""
	if dirSegs != "" {
		start = dirSegs + "/"
	}
	if err := w.walk(dirPath(dirSegs), start); err != nil {
		return ports.ObjectPage{}, mapErr("list", prefix, err)
	}
	var page ports.ObjectPage
	if len(w.found) > pageSize {
		w.found = w.found[:pageSize]
		page.NextPageToken = ports.ObjectPageToken(w.found[pageSize-1].Key)
	}
	page.Objects = w.found
	return page, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// walker collects up to limit objects with keys starting with prefix and
// sorting after after, in key order.
type walker struct {
	s      *Store
	ctx    context.Context
	prefix string
	after  string
	limit  int
	found  []ports.ObjectInfo
}

// entry is a directory entry decoded to its place in key order: a
// subdirectory sorts as "seg/", an object as "seg". Ordering siblings this
// way makes a depth-first walk yield keys in byte order ("a.b" before
// "a/b", although "a.b.o" > "a.d" as file names).
type entry struct {
	sortKey string // key (object) or key prefix ending in "/" (directory)
	rel     string // root-relative name
	isDir   bool
}

// walk visits the directory rel whose keys start with keyPrefix.
func (w *walker) walk(rel, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if rel != "." {
		if err := w.s.checkNoSymlinks(rel, false); err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
	}
	d, err := w.s.root.Open(rel)
	if err != nil {
		if isNotExist(err) {
			return nil // no such prefix, or removed while walking
		}
		return err
	}
	des, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return err
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		var e entry
		switch {
		case de.Type().IsDir() && strings.HasSuffix(name, dirSuffix):
			e = entry{sortKey: keyPrefix + strings.TrimSuffix(name, dirSuffix) + "/", isDir: true}
		case de.Type().IsRegular() && strings.HasSuffix(name, objSuffix):
			e = entry{sortKey: keyPrefix + strings.TrimSuffix(name, objSuffix)}
		default:
			continue // temporary files, links, anything not ours
		}
		if rel == "." {
			e.rel = name
		} else {
			e.rel = rel + "/" + name
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, e := range entries {
		if len(w.found) >= w.limit {
			return nil
		}
		if e.isDir {
			if w.skipDir(e.sortKey) {
				continue
			}
			if err := w.walk(e.rel, e.sortKey); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(e.sortKey, w.prefix) || e.sortKey <= w.after {
			continue
		}
		if ports.ValidateObjectKey(e.sortKey) != nil {
			continue // a name no Put could have written
		}
		info, err := w.s.stat(e.rel, e.sortKey)
		if err != nil {
			if isNotExist(err) {
				continue // deleted while walking
			}
			return err
		}
		w.found = append(w.found, info)
	}
	return nil
}

// skipDir reports whether no key below the directory with key prefix p can
// be listed: it lies outside the prefix, or wholly at or before the token.
func (w *walker) skipDir(p string) bool {
	if !strings.HasPrefix(p, w.prefix) && !strings.HasPrefix(w.prefix, p) {
		return true
	}
	return w.after != "" && w.after > p && !strings.HasPrefix(w.after, p)
}

// stat reads the trailer of the object file rel, which the caller found
// as a regular file (not a link) in its directory.
func (s *Store) stat(rel, key string) (ports.ObjectInfo, error) {
	f, err := s.root.Open(rel)
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	defer f.Close()
	return readInfo(f, key)
}
