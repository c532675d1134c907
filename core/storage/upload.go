package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"hash"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stockadehq/stockade/ports"
)

// UploadInput is one file streamed through the server.
type UploadInput struct {
	Kind string
	Name string // the original file name; sanitised (see CleanName)
	// Size is the declared size in bytes: Body must yield exactly this
	// many bytes.
	Size int64
	// ContentType is the uploader's claim, optional: when set (other than
	// application/octet-stream) it must equal the sniffed type.
	ContentType string
	Body        io.Reader
}

// Upload stores a file streamed through the server. It checks the role,
// kind, size and name, then sniffs the first bytes before anything is
// stored; then writes the pending row, streams the body into the object
// store (the size enforced, the SHA-256 computed on the way, encrypted
// when the shop is) and in one unit of work marks the row ready and
// appends "file.uploaded" (AUD-2). On any failure after the row was
// written, the object and the row are deleted: nothing is left behind.
// ErrForbidden (viewer), ErrInvalid (kind, size, name, content, a body
// shorter or longer than Size).
func (s *Service) Upload(ctx context.Context, in UploadInput) (ports.File, error) {
	c, err := s.policy.Require(ctx, access.FilesUpload)
	if err != nil {
		return ports.File{}, err
	}
	rule, err := s.rule(in.Kind)
	if err != nil {
		return ports.File{}, err
	}
	if err := rule.checkSize(in.Size); err != nil {
		return ports.File{}, err
	}
	name, err := CleanName(in.Name)
	if err != nil {
		return ports.File{}, err
	}
	if in.Body == nil {
		return ports.File{}, ports.Invalid("body", "must be given")
	}
	// Sniff before anything is stored. The head is at most SniffLen bytes;
	// a body that ends before min(Size, SniffLen) lied about its size.
	body := &ports.ExactReader{R: in.Body, Size: in.Size}
	head := make([]byte, min(in.Size, SniffLen))
	if _, err := io.ReadFull(body, head); err != nil {
		if e := body.Err(); e != nil {
			return ports.File{}, fmt.Errorf("storage: upload: %w", e)
		}
		return ports.File{}, fmt.Errorf("storage: upload: %w", ports.Invalid("body", "shorter than the declared size"))
	}
	ct, err := rule.accept(head, in.ContentType)
	if err != nil {
		return ports.File{}, fmt.Errorf("storage: upload: %w", err)
	}

	f, dataKey, err := s.createPending(ctx, c, in.Kind, name, ct, in.Size, true)
	if err != nil {
		return ports.File{}, err
	}
	sum := sha256.New()
	plain := io.TeeReader(io.MultiReader(bytes.NewReader(head), body), sum)
	if err := s.putObject(ctx, c.Shop, f, dataKey, plain); err != nil {
		return ports.File{}, s.discard(ctx, c.Shop, f, fmt.Errorf("storage: upload: %w", err))
	}
	ready, err := s.markReady(ctx, c, f, f.ObjectKey, in.Size, sum, "file.uploaded")
	if err != nil {
		return ports.File{}, s.discard(ctx, c.Shop, f, err)
	}
	return ready, nil
}

// createPending writes the pending row of a new file in its own unit of
// work and returns it, with the plaintext data key when the shop's files
// are encrypted (and encryptable is true; signed PUTs are not).
func (s *Service) createPending(ctx context.Context, c access.Scope, kind, name, ct string, size int64, encryptable bool) (ports.File, []byte, error) {
	id := ports.NewFileID()
	f := ports.File{
		ID: id, Kind: kind, Name: name, ContentType: ct, Size: size, UploadedBy: c.User,
		State: ports.FilePending, ObjectKey: ObjectKey(c.Shop, kind, id),
	}
	var dataKey []byte
	if encryptable && s.encrypt(c.Shop) {
		var err error
		if dataKey, f.WrappedKey, err = s.newDataKey(ctx, c.Shop); err != nil {
			return ports.File{}, nil, err
		}
		f.Encrypted = true
	}
	err := s.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		f, err = tx.Files().Create(ctx, f)
		return err
	})
	if err != nil {
		return ports.File{}, nil, fmt.Errorf("storage: create file: %w", err)
	}
	return f, dataKey, nil
}

// markReady records the checked size and digest, the key of the checked
// object and the audit event in one unit of work.
func (s *Service) markReady(ctx context.Context, c access.Scope, f ports.File, key string, size int64, sum hash.Hash, action string) (ports.File, error) {
	digest := sum.Sum(nil)
	var ready ports.File
	err := s.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if ready, err = tx.Files().MarkReady(ctx, f.ID, key, size, digest); err != nil {
			return err
		}
		_, err = audit.AppendBy(ctx, tx, s.clock, c, fileChange(action, ready, nil, describe(ready)))
		return err
	})
	if err != nil {
		return ports.File{}, fmt.Errorf("storage: mark file ready: %w", err)
	}
	return ready, nil
}

// discard deletes f's object and, while it is pending, its row after a
// failed upload and returns cause, joined with any error of the clean-up
// itself. It runs even when
// ctx is cancelled (a client that hung up), bounded by the store's own
// timeouts.
func (s *Service) discard(ctx context.Context, shop ports.ShopID, f ports.File, cause error) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if err := s.objects.Delete(ctx, f.ObjectKey); err != nil {
		errs = append(errs, fmt.Errorf("delete object: %w", err))
	}
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		got, err := tx.Files().Get(ctx, f.ID)
		if err != nil || got.State != ports.FilePending {
			return err // a concurrent Finalize made it ready with its own object: keep it
		}
		return tx.Files().Delete(ctx, f.ID)
	})
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		errs = append(errs, fmt.Errorf("delete pending row: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w (and cleaning up failed: %v)", cause, errors.Join(errs...))
	}
	return cause
}

// fileChange is the audit change of action on f.
func fileChange(action string, f ports.File, before, after json.RawMessage) audit.Change {
	return audit.Change{Action: action, Target: "file:" + f.ID.String(), Before: before, After: after}
}

// describe is a file as audit events record it (no keys).
func describe(f ports.File) json.RawMessage {
	b, _ := json.Marshal(map[string]any{ // plain values: cannot fail
		"kind": f.Kind, "name": f.Name, "content_type": f.ContentType, "size": f.Size,
		"sha256": hex.EncodeToString(f.SHA256), "encrypted": f.Encrypted,
	})
	return b
}

// CleanName turns an uploader's file name into the stored one: the last
// path element (either slash), invalid UTF-8 and control or format
// characters replaced, spaces trimmed, cut to ports.MaxFileNameLen bytes
// on a character boundary. ErrInvalid when nothing is left.
func CleanName(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if len(name) > ports.MaxFileNameLen {
		cut := ports.MaxFileNameLen
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	if name == "" || name == "." || name == ".." {
		return "", ports.Invalid("name", "must name a file")
	}
	return name, ports.ValidateFileName(name)
}
