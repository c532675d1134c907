package storage

import (
	"context"
	"fmt"
	"io"

	"github.com/stockadehq/stockade/ports"
)

// KeyWrapper wraps and unwraps per-object data keys under a shop's
// key-encryption key (STO-4). ports.KeyManager satisfies it; the service
// needs no more of it. UnwrapKey fails once the shop's keys are destroyed
// (crypto-shredding).
type KeyWrapper interface {
	WrapKey(ctx context.Context, shop ports.ShopID, dataKey []byte) ([]byte, error)
	UnwrapKey(ctx context.Context, shop ports.ShopID, wrapped []byte) ([]byte, error)
}

// envelope is the streaming AEAD the service encrypts objects with (the
// package's envelope encryption); an interface so the use cases do not
// care how it is built.
type envelope interface {
	NewDataKey() []byte
	EncryptingWriter(dst io.Writer, dataKey, aad []byte) (io.WriteCloser, error)
	DecryptingReader(src io.Reader, dataKey, aad []byte) (io.Reader, error)
	CiphertextSize(n int64) int64
}

// aad binds a ciphertext to its shop and object key, so an object copied
// to another key or shop does not decrypt.
func aad(shop ports.ShopID, key string) []byte {
	return append(append(shop.UUID[:], 0), key...)
}

// newDataKey returns a fresh data key and its wrapped form.
func (s *Service) newDataKey(ctx context.Context, shop ports.ShopID) (plain, wrapped []byte, err error) {
	if s.env == nil || s.keys == nil {
		return nil, nil, fmt.Errorf("storage: encryption is not configured: %w", ports.ErrUnavailable)
	}
	plain = s.env.NewDataKey()
	wrapped, err = s.keys.WrapKey(ctx, shop, plain)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: wrap data key: %w", err)
	}
	return plain, wrapped, nil
}

// putObject writes f's object from the plaintext plain, which yields
// exactly f.Size bytes: as is, or through the envelope when dataKey is
// set. The object is stored as application/octet-stream when encrypted
// (the row keeps the real type).
func (s *Service) putObject(ctx context.Context, shop ports.ShopID, f ports.File, dataKey []byte, plain io.Reader) error {
	if dataKey == nil {
		return s.objects.Put(ctx, f.ObjectKey, plain, f.Size, f.ContentType)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := s.env.EncryptingWriter(pw, dataKey, aad(shop, f.ObjectKey))
		if err == nil {
			if _, err = io.Copy(w, plain); err == nil {
				err = w.Close()
			}
		}
		pw.CloseWithError(err) // nil: EOF for the reader
	}()
	err := s.objects.Put(ctx, f.ObjectKey, pr, s.env.CiphertextSize(f.Size), ports.DefaultContentType)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if Put stopped early
	<-done
	return err
}

// openPlain opens f's object and returns its plaintext, decrypting when f
// is encrypted. The caller closes the result.
func (s *Service) openPlain(ctx context.Context, shop ports.ShopID, f ports.File) (io.ReadCloser, error) {
	var dataKey []byte
	if f.Encrypted {
		if s.env == nil || s.keys == nil {
			return nil, fmt.Errorf("storage: file %s is encrypted but encryption is not configured: %w", f.ID, ports.ErrUnavailable)
		}
		var err error
		if dataKey, err = s.keys.UnwrapKey(ctx, shop, f.WrappedKey); err != nil {
			return nil, fmt.Errorf("storage: file %s cannot be decrypted (the shop's key is unavailable or destroyed): %w", f.ID, err)
		}
	}
	rc, _, err := s.objects.Get(ctx, f.ObjectKey, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("storage: open file %s: %w", f.ID, err)
	}
	if dataKey == nil {
		return rc, nil
	}
	r, err := s.env.DecryptingReader(rc, dataKey, aad(shop, f.ObjectKey))
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("storage: decrypt file %s: %w", f.ID, err)
	}
	return readCloser{Reader: r, Closer: rc}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
