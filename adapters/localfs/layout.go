package localfs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// On disk, key "shops/1/photo.jpg" is the file "shops.d/1.d/photo.jpg.o"
// below the root. Directories end in ".d", objects in ".o" and temporary
// files in ".tmp", so no key can collide with another key's directory
// ("a" and "a/b" coexist as "a.o" and "a.d/b.o"), with a temporary file, or
// with anything the store did not write. Segments are at most
// ports.MaxObjectKeySegment bytes, so names stay under NAME_MAX.
const (
	dirSuffix = ".d"
	objSuffix = ".o"
	tmpSuffix = ".tmp"
)

// objectPath returns the root-relative file of a validated key.
func objectPath(key string) string {
	segs := strings.Split(key, "/")
	var b strings.Builder
	b.Grow(len(key) + 2*len(segs))
	for i, seg := range segs {
		b.WriteString(seg)
		if i == len(segs)-1 {
			b.WriteString(objSuffix)
		} else {
			b.WriteString(dirSuffix)
			b.WriteByte('/')
		}
	}
	return b.String()
}

// dirPath returns the root-relative directory of validated complete
// segments ("" is the root itself, ".").
func dirPath(segs string) string {
	if segs == "" {
		return "."
	}
	return strings.ReplaceAll(segs, "/", dirSuffix+"/") + dirSuffix
}

// parentDir returns the directory part of a root-relative path, or ".".
func parentDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}

// Each object file is the body followed by a trailer, so that the body,
// its content type and its hash are published by one rename:
//
//	body | meta JSON | uint32 big-endian len(meta JSON) | magic
//
// A body can be served straight from the file with an io.SectionReader.
const (
	trailerMagic   = "STKOBJ\x00\x01"
	trailerFixed   = int64(4 + len(trailerMagic))
	maxTrailerMeta = 4 << 10
)

// meta is what the trailer records besides the body.
type meta struct {
	ContentType string `json:"ct"`
	SHA256      string `json:"sha256"` // hex; the ETag
	ModTime     int64  `json:"mtime"`  // Unix nanoseconds, from the store's clock
}

// appendTrailer encodes m as a trailer.
func appendTrailer(m meta) ([]byte, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode trailer: %w", err)
	}
	out := append(js, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(out[len(js):], uint32(len(js)))
	return append(out, trailerMagic...), nil
}

// readInfo reads the trailer of the open object file f for key.
func readInfo(f *os.File, key string) (ports.ObjectInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return ports.ObjectInfo{}, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return ports.ObjectInfo{}, fmt.Errorf("%s is not a regular file", fi.Name())
	}
	var fixed [trailerFixed]byte
	if fi.Size() < trailerFixed {
		return ports.ObjectInfo{}, errCorrupt
	}
	if _, err := f.ReadAt(fixed[:], fi.Size()-trailerFixed); err != nil {
		return ports.ObjectInfo{}, fmt.Errorf("read trailer: %w", err)
	}
	if string(fixed[4:]) != trailerMagic {
		return ports.ObjectInfo{}, errCorrupt
	}
	n := int64(binary.BigEndian.Uint32(fixed[:4]))
	size := fi.Size() - trailerFixed - n
	if n > maxTrailerMeta || size < 0 {
		return ports.ObjectInfo{}, errCorrupt
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size); err != nil {
		return ports.ObjectInfo{}, fmt.Errorf("read trailer: %w", err)
	}
	var m meta
	if err := json.Unmarshal(buf, &m); err != nil {
		return ports.ObjectInfo{}, errCorrupt
	}
	return ports.ObjectInfo{
		Key:         key,
		Size:        size,
		ContentType: m.ContentType,
		ETag:        m.SHA256,
		ModTime:     time.Unix(0, m.ModTime).UTC(),
	}, nil
}

// errCorrupt: a file with an object's name that this store did not write
// whole. It matches no sentinel: it is an operator's problem, not the
// caller's.
var errCorrupt = errors.New("object file has no valid trailer (not written by this store, or damaged)")

// ErrSymlink is returned (wrapped, and matching ports.ErrForbidden) when a
// path below the root holds a symbolic link. The store never writes links,
// so one is an intrusion or an operator's mistake; it is refused even when
// it points inside the root, since it could join one shop's prefix to
// another's.
var ErrSymlink = fmt.Errorf("symbolic link below the object root refused: %w", ports.ErrForbidden)

// checkNoSymlinks lstats every component of the root-relative path rel and
// refuses symbolic links. os.Root already refuses links that leave the
// root, even under a race; this also refuses links within it. With
// allowMissing, a missing component ends the check successfully.
func (s *Store) checkNoSymlinks(rel string, allowMissing bool) error {
	for i := 0; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		fi, err := s.root.Lstat(rel[:i])
		if err != nil {
			if allowMissing && isNotExist(err) {
				return nil // what does not exist is no link
			}
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return ErrSymlink
		}
	}
	return nil
}

// isNotExist reports errors that mean "no such object": a missing file or
// a path component that is a file where a directory was expected.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// mapErr turns a file-system error into a ports sentinel wrapped with op
// and key. Errors with no sentinel are reported with %v so os errors never
// become part of the contract.
func mapErr(op, key string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ports.ErrInvalid), errors.Is(err, ports.ErrForbidden), errors.Is(err, ports.ErrNotFound),
		errors.Is(err, ports.ErrUnsupported), errors.Is(err, ports.ErrUnavailable):
		return fmt.Errorf("localfs: %s %q: %w", op, key, err)
	case isNotExist(err):
		return fmt.Errorf("localfs: %s %q: %w", op, key, ports.ErrNotFound)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return fmt.Errorf("localfs: %s %q: %v: %w", op, key, err, ports.ErrUnavailable)
	}
	return fmt.Errorf("localfs: %s %q: %v", op, key, err)
}

// ctxReader fails reads once ctx is done, so a cancelled Put stops copying.
type ctxReader struct {
	ctx interface{ Err() error }
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
