// Package localfs is the embedded default ports.ObjectStore: objects are
// files below one directory, opened through os.Root so that no key, link
// or race can reach outside it. Writes are atomic (temporary file in the
// target directory, fsync, rename, fsync of the directory). Signed URLs are
// HMAC-SHA256 tokens that the store's own http.Handler verifies.
//
// Limitations: on a case-insensitive file system (macOS, Windows defaults)
// keys differing only in case name the same object. Temporary files of a
// crashed Put (names ending in ".tmp") are ignored until SweepPartial
// (run by housekeeping) deletes them.
package localfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sync"

	"github.com/stockadehq/stockade/ports"
)

// Options configure a Store. The zero value gives a store without signed
// URLs on the system clock.
type Options struct {
	// BaseURL is the absolute URL at which Handler is reachable, for
	// example "https://files.example.com/objects/". Signed URLs are
	// BaseURL + escaped key + signature. Empty: SignedURL returns
	// ports.ErrUnsupported.
	BaseURL string
	// SigningKey is the HMAC-SHA256 key of signed URLs, at least 32
	// random bytes; required with BaseURL. Rotating it invalidates every
	// URL issued before.
	SigningKey []byte
	// Clock stamps ModTime and signs and checks URL expiry; nil is the
	// system clock.
	Clock ports.Clock
	// MaxUploadSize bounds a signed PUT's body; 0 means DefaultMaxUploadSize.
	MaxUploadSize int64
}

// DefaultMaxUploadSize bounds signed PUTs when Options.MaxUploadSize is 0.
const DefaultMaxUploadSize = 5 << 30

const copyBufSize = 256 << 10

// Store is a ports.ObjectStore on a local directory. It is safe for
// concurrent use; Close releases the directory handle.
type Store struct {
	root      *os.Root
	clock     ports.Clock
	base      *url.URL // nil: no signed URLs
	key       []byte
	maxUpload int64
	// bufs holds Put's copy buffers: big enough to keep syscalls few,
	// pooled so that concurrent uploads do not each allocate one.
	bufs sync.Pool
}

var _ ports.ObjectStore = (*Store)(nil)

// Open returns a store on dir, creating it (mode 0700) if missing.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, ports.Invalid("object directory", "must be set")
	}
	s := &Store{clock: opts.Clock, maxUpload: opts.MaxUploadSize}
	s.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.maxUpload <= 0 {
		s.maxUpload = DefaultMaxUploadSize
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, ports.Invalid("base url", "must be an absolute http(s) URL without query, e.g. https://files.example.com/objects/")
		}
		if len(opts.SigningKey) < 32 {
			return nil, ports.Invalid("signing key", "must be at least 32 random bytes")
		}
		if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
			u.Path += "/"
		}
		u.RawPath = ""
		s.base = u
		s.key = append([]byte(nil), opts.SigningKey...)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localfs: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: open %s: %w", dir, err)
	}
	s.root = root
	return s, nil
}

// Close releases the directory handle. The store must not be used after.
func (s *Store) Close() error { return s.root.Close() }

// Put implements ports.ObjectStore. The object is published by a rename
// after its file is flushed; the directory is flushed after. If that last
// flush fails, Put reports it although the object is visible: it may not
// survive a crash.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return mapErr("put", key, err)
	}
	if size < 0 {
		return mapErr("put", key, ports.Invalid("size", "must not be negative"))
	}
	ct, err := ports.NormalizeContentType(contentType)
	if err != nil {
		return mapErr("put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localfs: put %q: %w", key, err)
	}
	final := objectPath(key)
	dir := parentDir(final)
	tmp, f, err := s.createTemp(dir)
	if err != nil {
		return mapErr("put", key, err)
	}
	published := false
	defer func() {
		if !published {
			_ = f.Close()
			_ = s.root.Remove(tmp)
		}
	}()

	src := &ports.ExactReader{R: ctxReader{ctx: ctx, r: r}, Size: size}
	h := sha256.New()
	bufp := s.bufs.Get().(*[]byte)
	_, err = io.CopyBuffer(io.MultiWriter(f, h), src, *bufp)
	s.bufs.Put(bufp)
	if src.Err() != nil {
		return fmt.Errorf("localfs: put %q: %w", key, src.Err())
	}
	if err != nil {
		return mapErr("put", key, err)
	}
	if err := s.finish(f, h, ct); err != nil {
		return mapErr("put", key, err)
	}
	// A Put cancelled after the body was read is not published either, so
	// that an error from Put always means "nothing changed".
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localfs: put %q: %w", key, err)
	}
	if err := s.checkNoSymlinks(dir, false); err != nil {
		return mapErr("put", key, err)
	}
	if fi, err := s.root.Lstat(final); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return mapErr("put", key, ErrSymlink) // replacing it would be safe, but it is an intrusion
	}
	if err := s.root.Rename(tmp, final); err != nil {
		return mapErr("put", key, err)
	}
	published = true
	return mapErr("put", key, s.syncDir(dir))
}

// createTemp creates a new temporary file in dir (made if missing) and
// returns its root-relative name. A concurrent Delete may remove an empty
// dir between MkdirAll and the create; that is retried.
func (s *Store) createTemp(dir string) (string, *os.File, error) {
	var err error
	for range 5 {
		// Check before MkdirAll so that a link is reported as one rather
		// than as os.Root's refusal to leave the root.
		if err = s.checkNoSymlinks(dir, true); err != nil {
			return "", nil, err
		}
		if err = s.root.MkdirAll(dir, 0o700); err != nil {
			return "", nil, err
		}
		if err = s.checkNoSymlinks(dir, false); err != nil {
			return "", nil, err
		}
		name := dir + "/~" + rand.Text() + tmpSuffix
		var f *os.File
		f, err = s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return name, f, nil
		}
		if !isNotExist(err) {
			return "", nil, err
		}
	}
	return "", nil, err
}

// finish appends the trailer, flushes the file to disk and closes it.
func (s *Store) finish(f *os.File, h hash.Hash, ct string) error {
	tr, err := appendTrailer(meta{ContentType: ct, SHA256: hex.EncodeToString(h.Sum(nil)), ModTime: s.clock.Now().UnixNano()})
	if err != nil {
		return err
	}
	if _, err := f.Write(tr); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// syncDir flushes dir's entries, so a rename survives a crash.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// open opens key's file after refusing links on its path, and reads its
// trailer.
func (s *Store) open(key string) (*os.File, ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	rel := objectPath(key)
	if err := s.checkNoSymlinks(rel, false); err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	f, err := s.root.Open(rel)
	if err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	info, err := readInfo(f, key)
	if err != nil {
		_ = f.Close()
		return nil, ports.ObjectInfo{}, err
	}
	return f, info, nil
}

// Get implements ports.ObjectStore.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ports.ObjectInfo, error) {
	if offset < 0 || length < -1 {
		return nil, ports.ObjectInfo{}, mapErr("get", key, ports.Invalid("range", "offset must be >= 0 and length >= -1"))
	}
	if err := ctx.Err(); err != nil {
		return nil, ports.ObjectInfo{}, fmt.Errorf("localfs: get %q: %w", key, err)
	}
	f, info, err := s.open(key)
	if err != nil {
		return nil, ports.ObjectInfo{}, mapErr("get", key, err)
	}
	if offset > info.Size {
		_ = f.Close()
		return nil, ports.ObjectInfo{}, mapErr("get", key, ports.Invalid("range", fmt.Sprintf("offset %d is beyond the object's %d bytes", offset, info.Size)))
	}
	n := info.Size - offset
	if length >= 0 && length < n {
		n = length
	}
	return &sectionFile{SectionReader: io.NewSectionReader(f, offset, n), f: f}, info, nil
}

// sectionFile reads a section of an open file and closes the file.
type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// Stat implements ports.ObjectStore.
func (s *Store) Stat(ctx context.Context, key string) (ports.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return ports.ObjectInfo{}, fmt.Errorf("localfs: stat %q: %w", key, err)
	}
	f, info, err := s.open(key)
	if err != nil {
		return ports.ObjectInfo{}, mapErr("stat", key, err)
	}
	return info, f.Close()
}

// Delete implements ports.ObjectStore. Directories left empty are removed
// up to the root (a concurrent Put into one of them retries).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return mapErr("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localfs: delete %q: %w", key, err)
	}
	rel := objectPath(key)
	if err := s.checkNoSymlinks(rel, false); err != nil {
		if isNotExist(err) {
			return nil
		}
		return mapErr("delete", key, err)
	}
	if err := s.root.Remove(rel); err != nil {
		if isNotExist(err) {
			return nil
		}
		return mapErr("delete", key, err)
	}
	s.removeEmptyDirs(parentDir(rel))
	return nil
}
