package ports

import "context"

// Data-key limits of KeyManager.WrapKey. A data key is the per-object key of
// envelope encryption (STO-4); 32 bytes is usual.
const (
	MinDataKeyLen = 16
	MaxDataKeyLen = 64
)

// KeyManager holds each shop's key-encryption keys (KEKs) and wraps data
// keys under them: the port behind envelope encryption (STO-4). Every
// object is encrypted with its own data key; only the wrapped data key is
// stored beside the object, so whoever holds a shop's KEKs decides whether
// its objects can ever be read again. Destroying them (DestroyKeys) is
// crypto-shredding; bringing the shop's own key (BYOK) is a KeyManager
// backed by the shop's KMS.
//
// A shop's KEKs form versions: one is current and wraps; every version
// still held unwraps. A wrapped key (a "blob") is opaque to callers; it
// names the KEK version that wrapped it and is bound to its shop, so a
// blob wrapped for shop A never unwraps as shop B's.
//
// The contract every method keeps, checked by porttest.TestKeyManager:
//   - A zero ShopID is ErrInvalid.
//   - A cancelled or expired ctx returns an error matching ctx.Err() and
//     changes nothing.
//   - A dependency that cannot be reached, or key material the manager
//     holds but cannot open (a missing master key, a corrupt key file),
//     returns ErrUnavailable: never ErrNotFound, which means destroyed.
//   - A key held by an external key management service that refuses to
//     use it — disabled, pending deletion, deleted, or its grant or policy
//     revoked by the key's owner (the shop, for a key it brought) — is
//     ErrKeyRevoked, from WrapKey and UnwrapKey alike: never ErrInvalid,
//     which means a malformed or altered blob, nor ErrNotFound, which
//     means Stockade destroyed the key (DestroyKeys). Managers that hold
//     their keys themselves (localkms) never return it.
//   - Implementations are safe for concurrent use. Concurrent first uses
//     of one shop create one KEK; a RotateKey running beside WrapKey never
//     makes a returned blob unreadable.
//   - Data keys and KEKs never appear in errors or logs.
type KeyManager interface {
	// WrapKey encrypts dataKey (MinDataKeyLen to MaxDataKeyLen bytes, else
	// ErrInvalid) under shop's current KEK, creating the shop's first KEK
	// on first use, also after DestroyKeys. The blob names the KEK version
	// inside it and binds shop as associated data. Wrapping the same key
	// twice gives different blobs (fresh randomness per call). The blob is
	// durable when WrapKey returns: the KEK it names has been persisted.
	WrapKey(ctx context.Context, shop ShopID, dataKey []byte) ([]byte, error)
	// UnwrapKey returns the data key inside wrapped, a blob WrapKey
	// returned for shop under any KEK version still held.
	//
	// ErrInvalid when wrapped is malformed, when any of its bytes was
	// altered, or when it was wrapped for another shop. ErrNotFound,
	// wrapped with the message "key destroyed", when the KEK it names is
	// no longer held: shop's keys were destroyed (even if WrapKey has
	// since created new ones) or the version is unknown.
	UnwrapKey(ctx context.Context, shop ShopID, wrapped []byte) ([]byte, error)
	// RotateKey makes a new KEK version current for shop; WrapKey uses it
	// from the moment RotateKey returns, and blobs of older versions still
	// unwrap. For a shop without keys it creates the first KEK. Rotation
	// does not re-wrap existing blobs: they stay under the version that
	// wrapped them until the caller re-wraps them.
	RotateKey(ctx context.Context, shop ShopID) error
	// DestroyKeys irrevocably deletes every KEK version of shop
	// (crypto-shredding): afterwards no blob ever wrapped for shop unwraps,
	// and every data key, and so every object, under them is unreadable.
	// It is durable when it returns. Destroying a shop without keys is not
	// an error, so DestroyKeys is idempotent and can be retried.
	DestroyKeys(ctx context.Context, shop ShopID) error
}
