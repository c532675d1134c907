package storage

import (
	"context"
	"io"

	"github.com/stockadehq/stockade/ports"
)

// OpenPlain opens f's object, a file of shop, and returns its plaintext,
// decrypting it when f is envelope-encrypted. It checks no permission: it
// is for privileged callers that checked their own (the shop export,
// which requires access.ShopExport or an operator and is audited first).
// The caller closes the result. ErrUnavailable when f is encrypted and no
// key manager is configured; the key manager's error when the shop's key
// is unavailable or destroyed.
func (s *Service) OpenPlain(ctx context.Context, shop ports.ShopID, f ports.File) (io.ReadCloser, error) {
	return s.openPlain(ctx, shop, f)
}
