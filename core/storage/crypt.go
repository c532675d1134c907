package storage

import (
	"bufio"
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

// aad binds a ciphertext to its shop and object key, so an object copied
// to another key or shop does not decrypt.
func aad(shop ports.ShopID, key string) []byte {
	return append(append(shop.UUID[:], 0), key...)
}

// newDataKey returns a fresh data key and its wrapped form.
func (s *Service) newDataKey(ctx context.Context, shop ports.ShopID) (plain, wrapped []byte, err error) {
	if s.keys == nil {
		return nil, nil, fmt.Errorf("storage: encryption is not configured: %w", ports.ErrUnavailable)
	}
	plain = NewDataKey()
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
	r, err := EncryptingReader(plain, dataKey, aad(shop, f.ObjectKey))
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	return s.objects.Put(ctx, f.ObjectKey, r, CiphertextSize(f.Size), ports.DefaultContentType)
}

// openPlain opens f's object and returns its plaintext, decrypting when f
// is encrypted. The caller closes the result.
func (s *Service) openPlain(ctx context.Context, shop ports.ShopID, f ports.File) (io.ReadCloser, error) {
	var dataKey []byte
	if f.Encrypted {
		if s.keys == nil {
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
	// The decrypter reads one 4 KiB segment at a time: buffer the store's
	// stream so that is not one system call (or socket read) per segment.
	r, err := DecryptingReader(bufio.NewReaderSize(rc, streamBuffer), dataKey, aad(shop, f.ObjectKey))
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

// streamBuffer is the chunk size of encrypted streams through the server.
const streamBuffer = 256 << 10
