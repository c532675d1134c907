package ports

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// FileState is where a file is in its upload.
type FileState string

// File states. A file is created pending, before its object is written,
// and becomes ready once the object is stored and checked. Only ready
// files are offered for download.
const (
	FilePending FileState = "pending"
	FileReady   FileState = "ready"
)

// File limits.
const (
	// MaxFileNameLen is the longest original file name kept, in bytes.
	MaxFileNameLen = 255
	// MaxFileKindLen is the longest kind, in bytes.
	MaxFileKindLen = 32
	// MaxWrappedKeyLen bounds a wrapped data key, in bytes.
	MaxWrappedKeyLen = 1024
	// MaxFilePageSize is the largest page FileRepo.List returns.
	MaxFilePageSize = 1000
	// DefaultFilePageSize is the page FileRepo.List returns when
	// FileQuery.Limit is not positive.
	DefaultFilePageSize = 100
)

// File is the metadata of one stored object (STO-3). It is a tenant row:
// the shop is the unit of work's. The object itself lives in an
// ObjectStore under ObjectKey, which the core builds from the shop, kind
// and ID (STO-2).
type File struct {
	ID   FileID
	Kind string // "photo", "document", "certificate", …: lower-case a-z, 0-9, _ and -
	// Name is the original file name as the uploader gave it, already
	// sanitised by the core: valid UTF-8, no control characters or path
	// separators.
	Name        string
	ContentType string // the sniffed media type, e.g. "image/png"
	// Size is the plaintext size in bytes: declared while pending, checked
	// when ready.
	Size int64
	// SHA256 is the digest of the plaintext; nil while pending (unless the
	// uploader declared one), 32 bytes when ready.
	SHA256     []byte
	UploadedBy UserID
	CreatedAt  time.Time // stamped by the store
	State      FileState
	// Encrypted reports envelope encryption (STO-4): the object holds
	// ciphertext under a per-object data key, and WrappedKey is that key
	// wrapped by the shop's key-encryption key. WrappedKey is nil exactly
	// when Encrypted is false.
	Encrypted  bool
	WrappedKey []byte
	ObjectKey  string
}

// Validate checks a file before Create stores it: every field set and
// well-formed, State pending.
func (f File) Validate() error {
	switch {
	case f.ID.IsZero():
		return Invalid("file id", "must be set")
	case f.UploadedBy.IsZero():
		return Invalid("uploaded by", "must be set")
	case f.State != FilePending:
		return Invalid("state", "a file is created pending")
	case f.Size < 0:
		return Invalid("size", "must not be negative")
	case f.SHA256 != nil && len(f.SHA256) != sha256.Size:
		return Invalid("sha256", "must be a SHA-256 digest (32 bytes)")
	case f.Encrypted != (len(f.WrappedKey) > 0):
		return Invalid("wrapped key", "must be set exactly when the file is encrypted")
	case len(f.WrappedKey) > MaxWrappedKeyLen:
		return Invalid("wrapped key", fmt.Sprintf("must be at most %d bytes", MaxWrappedKeyLen))
	}
	if err := ValidateFileKind(f.Kind); err != nil {
		return err
	}
	if err := ValidateFileName(f.Name); err != nil {
		return err
	}
	if _, err := NormalizeContentType(f.ContentType); err != nil || f.ContentType == "" {
		return Invalid("content type", "must be a media type such as image/png")
	}
	return ValidateObjectKey(f.ObjectKey)
}

// ValidateFileKind checks a kind: 1 to MaxFileKindLen bytes of a-z, 0-9,
// "_" and "-", starting with a letter. A kind is a segment of object keys,
// so it must be safe there. The error matches ErrInvalid.
func ValidateFileKind(kind string) error {
	if kind == "" || len(kind) > MaxFileKindLen || kind[0] < 'a' || kind[0] > 'z' {
		return Invalid("kind", fmt.Sprintf("must be 1 to %d bytes starting with a-z", MaxFileKindLen))
	}
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Invalid("kind", "must hold only a-z, 0-9, _ and -")
		}
	}
	return nil
}

// ValidateFileName checks a stored file name: 1 to MaxFileNameLen bytes
// of UTF-8 without control characters, "/" or "\", and not "." or "..".
// The error matches ErrInvalid.
func ValidateFileName(name string) error {
	switch {
	case name == "" || len(name) > MaxFileNameLen:
		return Invalid("name", fmt.Sprintf("must be 1 to %d bytes", MaxFileNameLen))
	case !utf8.ValidString(name):
		return Invalid("name", "must be valid UTF-8")
	case name == "." || name == "..":
		return Invalid("name", "must not be . or ..")
	case strings.ContainsAny(name, `/\`):
		return Invalid("name", "must not contain / or \\")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return Invalid("name", "must not contain control characters")
		}
	}
	return nil
}

// FileQuery selects a page of a shop's files, oldest first.
type FileQuery struct {
	// Kind, when set, keeps files of that kind only.
	Kind string
	// State, when set, keeps files in that state only.
	State FileState
	// After continues after this file (the last of the previous page);
	// zero starts at the oldest. A file that does not exist (or was
	// deleted since) is ErrNotFound.
	After FileID
	// Limit is the page size: DefaultFilePageSize when not positive,
	// at most MaxFilePageSize.
	Limit int
}

// PageLimit is the number of files a List call returns at most.
func (q FileQuery) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultFilePageSize
	case q.Limit > MaxFilePageSize:
		return MaxFilePageSize
	}
	return q.Limit
}

// FileRepo keeps the file metadata of the unit of work's shop. No method
// takes a shop ID: the shop is the transaction's, and another shop's file
// IDs answer ErrNotFound — for reads and for writes alike.
type FileRepo interface {
	// Create stores f (see File.Validate), stamping CreatedAt from the
	// store's clock, and returns it as stored. ErrInvalid for a bad file,
	// ErrConflict for a taken ID or object key, ErrNotFound if the
	// uploader is not a user.
	Create(ctx context.Context, f File) (File, error)
	// Get returns the file in any state, or ErrNotFound.
	Get(ctx context.Context, id FileID) (File, error)
	// List returns a page of files ordered by CreatedAt, then ID.
	// ErrInvalid for a malformed Kind or State.
	List(ctx context.Context, q FileQuery) ([]File, error)
	// MarkReady records a pending file's checked size and SHA-256
	// (32 bytes) and the object key the checked object is stored under
	// (Create's, or the key a signed upload was promoted to), and makes
	// it ready, returning the file as stored. ErrNotFound for an unknown
	// file, ErrConflict if it is not pending (of two concurrent calls at
	// most one succeeds) or another file has objectKey, ErrInvalid for a
	// negative size, a digest of the wrong length or a bad key.
	MarkReady(ctx context.Context, id FileID, objectKey string, size int64, sha256 []byte) (File, error)
	// Delete removes the file's row in any state. ErrNotFound for an
	// unknown file. The object is the caller's to delete.
	Delete(ctx context.Context, id FileID) error
}
