package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"hash"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// UploadRequest asks for a signed PUT URL.
type UploadRequest struct {
	Kind        string
	Name        string
	Size        int64  // the exact size the PUT must send, at least 1 byte
	ContentType string // the type the PUT must declare; checked against the content at Finalize
}

// PendingUpload is a file awaiting its signed PUT and Finalize.
type PendingUpload struct {
	File      ports.File // pending
	URL       string     // PUT here with Content-Length = Size and Content-Type = ContentType
	ExpiresAt time.Time
}

// RequestUpload writes a pending row and returns a signed PUT URL for its
// staging key (StagingKey), valid for UploadURLExpiry, that only accepts
// exactly Size bytes declared as ContentType. The upload counts once
// Finalize has moved it out of the staging key and checked it; the URL
// never names the key a file is served from. Shops whose files are encrypted upload through the server (Upload)
// instead: ErrInvalid here. ErrForbidden for a viewer; ErrInvalid for a
// bad kind, size, name or a content type the kind does not accept;
// ErrUnsupported when the object store cannot sign URLs.
func (s *Service) RequestUpload(ctx context.Context, in UploadRequest) (PendingUpload, error) {
	c, err := s.policy.Require(ctx, access.FilesUpload)
	if err != nil {
		return PendingUpload{}, err
	}
	if s.encrypt(c.Shop) {
		return PendingUpload{}, ports.Invalid("upload", "this shop's files are encrypted: upload through the server (POST /files)")
	}
	rule, err := s.rule(in.Kind)
	if err != nil {
		return PendingUpload{}, err
	}
	if err := rule.checkSize(in.Size); err != nil {
		return PendingUpload{}, err
	}
	if in.Size == 0 {
		return PendingUpload{}, ports.Invalid("size", "a signed upload must have at least 1 byte")
	}
	ct := ports.DefaultContentType
	if !rule.Any {
		if !slices.Contains(rule.Types, in.ContentType) {
			return PendingUpload{}, ports.Invalid("content type", fmt.Sprintf("%q is not accepted for this kind", in.ContentType))
		}
		ct = in.ContentType
	}
	name, err := CleanName(in.Name)
	if err != nil {
		return PendingUpload{}, err
	}
	f, _, err := s.createPending(ctx, c, in.Kind, name, ct, in.Size, false)
	if err != nil {
		return PendingUpload{}, err
	}
	u, err := s.objects.SignedURL(ctx, http.MethodPut, StagingKey(c.Shop, f.ID), UploadURLExpiry, ports.SignedURLOptions{ContentType: ct, ContentLength: in.Size})
	if err != nil {
		return PendingUpload{}, s.discard(ctx, c.Shop, f, fmt.Errorf("storage: sign upload: %w", err))
	}
	return PendingUpload{File: f, URL: u, ExpiresAt: s.clock.Now().Add(UploadURLExpiry)}, nil
}

// ErrNotUploaded is returned (wrapped, matching ports.ErrConflict) by
// Finalize when nothing has been PUT to the staging key (not yet, or a
// concurrent Finalize took it); the pending file stays and Finalize may
// be retried after a PUT.
var ErrNotUploaded = fmt.Errorf("object not uploaded yet: %w", ports.ErrConflict)

// Finalize checks a signed-PUT upload and makes it ready. First it moves
// the object out of the staging key the URL writes to, to a key of its
// own that was never signed for PUT (promotedKey): from then on nothing
// PUT through the URL, which stays valid for a while, can change what is
// checked and served, and a concurrent Finalize works on another copy.
// Then the object's size must equal the declared one, and reading it back
// its SHA-256 must equal wantSHA256 and its sniffed type the declared
// one. Then the row is marked ready under the moved key with
// "file.uploaded" audited in one unit of work; of concurrent Finalizes of
// one file at most one succeeds, the others' copies are deleted. Any
// mismatch deletes the object and the pending row and is ErrInvalid. Only
// the uploader may finalize (ErrForbidden); ErrNotFound for an unknown
// (or meanwhile deleted) file; ErrConflict for a file already ready;
// ErrNotUploaded before the PUT.
func (s *Service) Finalize(ctx context.Context, id ports.FileID, wantSHA256 []byte) (ports.File, error) {
	c, err := s.policy.Require(ctx, access.FilesUpload)
	if err != nil {
		return ports.File{}, err
	}
	if len(wantSHA256) != sha256.Size {
		return ports.File{}, ports.Invalid("sha256", "must be a SHA-256 digest (64 hex digits)")
	}
	var f ports.File
	err = s.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		f, err = tx.Files().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	switch {
	case err != nil:
		return ports.File{}, fmt.Errorf("storage: finalize %s: %w", id, err)
	case f.UploadedBy != c.User:
		return ports.File{}, fmt.Errorf("storage: finalize %s: only the uploader may finalize: %w", id, ports.ErrForbidden)
	case f.State != ports.FilePending:
		return ports.File{}, fmt.Errorf("storage: finalize %s: already final: %w", id, ports.ErrConflict)
	case f.Encrypted:
		return ports.File{}, fmt.Errorf("storage: finalize %s: %w", id, ports.Invalid("file", "encrypted files are not finalized"))
	}
	moved := f
	moved.ObjectKey = promotedKey(f)
	err = s.objects.Move(ctx, StagingKey(c.Shop, f.ID), moved.ObjectKey)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.File{}, fmt.Errorf("storage: finalize %s: %w", id, ErrNotUploaded)
	}
	if err != nil {
		return ports.File{}, fmt.Errorf("storage: finalize %s: promote the upload: %w", id, err)
	}
	info, err := s.objects.Stat(ctx, moved.ObjectKey)
	if err != nil {
		return ports.File{}, s.discard(ctx, c.Shop, moved, fmt.Errorf("storage: finalize %s: %w", id, err))
	}
	if info.Size != f.Size {
		return ports.File{}, s.discard(ctx, c.Shop, moved, fmt.Errorf("storage: finalize %s: %w", id,
			ports.Invalid("size", fmt.Sprintf("uploaded %d bytes, declared %d", info.Size, f.Size))))
	}
	sum, err := s.verifyObject(ctx, moved)
	if err != nil {
		return ports.File{}, s.discard(ctx, c.Shop, moved, fmt.Errorf("storage: finalize %s: %w", id, err))
	}
	if !bytes.Equal(sum.Sum(nil), wantSHA256) {
		return ports.File{}, s.discard(ctx, c.Shop, moved, fmt.Errorf("storage: finalize %s: %w", id,
			ports.Invalid("sha256", "does not match the uploaded content")))
	}
	ready, err := s.markReady(ctx, c, f, moved.ObjectKey, f.Size, sum, "file.uploaded")
	if errors.Is(err, ports.ErrConflict) || errors.Is(err, ports.ErrNotFound) {
		// Another Finalize made the file ready first, or it was deleted
		// meanwhile: this call's copy belongs to no file.
		if derr := s.objects.Delete(context.WithoutCancel(ctx), moved.ObjectKey); derr != nil {
			err = fmt.Errorf("%w (and deleting the copy %s failed: %v)", err, moved.ObjectKey, derr)
		}
		return ports.File{}, fmt.Errorf("storage: finalize %s: %w", id, err)
	}
	if err != nil {
		return ports.File{}, s.discard(ctx, c.Shop, moved, err)
	}
	return ready, nil
}

// promotedKey is a fresh key for f's checked object, unique to one
// Finalize call: f's ObjectKey, a dot and 26 random characters. It is
// never signed for PUT; housekeeping finds the copies of a pending file
// by the prefix f.ObjectKey.
func promotedKey(f ports.File) string { return f.ObjectKey + "." + rand.Text() }

// verifyObject reads f's object back: exactly f.Size bytes whose sniffed
// type the kind accepts as f.ContentType. It returns the running digest.
func (s *Service) verifyObject(ctx context.Context, f ports.File) (hash.Hash, error) {
	rule, err := s.rule(f.Kind)
	if err != nil {
		return nil, err
	}
	rc, _, err := s.objects.Get(ctx, f.ObjectKey, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body := &ports.ExactReader{R: rc, Size: f.Size}
	head := make([]byte, min(f.Size, SniffLen))
	if _, err := io.ReadFull(body, head); err != nil {
		return nil, ports.Invalid("size", "the object is shorter than declared")
	}
	if _, err := rule.accept(head, f.ContentType); err != nil {
		return nil, err
	}
	sum := sha256.New()
	sum.Write(head)
	if _, err := io.Copy(sum, body); err != nil {
		return nil, err
	}
	return sum, nil
}
