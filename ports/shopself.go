package ports

import "context"

// ThisShopRepo reads and changes the directory row of the unit of work's
// own shop, so that a settings change and its audit event commit together
// (AUD-2). It cannot address any other shop.
type ThisShopRepo interface {
	// Get returns the shop.
	Get(ctx context.Context) (Shop, error)
	// Rename sets the shop's display name and returns the stored shop.
	// ErrInvalid for a bad name (see ValidateName).
	Rename(ctx context.Context, name string) (Shop, error)
	// SetStatus changes the shop's status and returns the stored shop.
	// ErrInvalid for an unknown status.
	SetStatus(ctx context.Context, status ShopStatus) (Shop, error)
}
