package ports

import (
	"context"
	"time"
)

// KMSKeyOrigin says who created a KEK kept at an external KMS.
type KMSKeyOrigin string

const (
	// KMSKeyStockade is a key Stockade created in the platform's own KMS
	// account; Stockade disables it and schedules its deletion when the
	// shop's keys are destroyed.
	KMSKeyStockade KMSKeyOrigin = "stockade"
	// KMSKeyCustomer is a key the customer brought (BYOK), possibly in
	// another account; Stockade only uses it and, on destruction, forgets
	// it.
	KMSKeyCustomer KMSKeyOrigin = "customer"
)

// KMSKey is one KEK version of a key scope held by an external KMS: the
// row behind adapters/awskms. A scope is a shop, or a fixed scope that
// names no shop (auth.FactorKeyScope), so the table has no foreign key to
// shops. Every version of a scope shares one Ring, a random ID a scope's
// keys get anew after DestroyKeys.
type KMSKey struct {
	Scope     ShopID
	Ring      [16]byte
	Version   uint32 // 1, 2, …: the highest is current
	KeyID     string // the key's ARN at the KMS
	Origin    KMSKeyOrigin
	CreatedAt time.Time
}

// KMSKeyRepo is the global directory of the KEKs an external KMS holds
// for each key scope. Rows are written once: a version is added, never
// changed, and all of a scope's versions are forgotten together.
type KMSKeyRepo interface {
	// List returns scope's versions, lowest first; none is an empty list.
	List(ctx context.Context, scope ShopID) ([]KMSKey, error)
	// Add records k (CreatedAt is set by the store). ErrConflict when the
	// scope already has k.Version; ErrInvalid for a zero scope, a version
	// 0, an empty KeyID or an unknown origin.
	Add(ctx context.Context, k KMSKey) error
	// Forget deletes every version of scope and returns how many there
	// were.
	Forget(ctx context.Context, scope ShopID) (int, error)
}
