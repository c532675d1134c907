package ports

import "context"

// PasswordRepo keeps each user's password hash, a global row. Hashes are
// opaque encoded strings produced by a PasswordHasher (PHC format for
// Argon2id, modular crypt format for bcrypt).
type PasswordRepo interface {
	// Set stores or replaces the user's hash. ErrNotFound if the user does
	// not exist; ErrInvalid for an empty hash or one over 1024 bytes.
	Set(ctx context.Context, user UserID, hash string) error
	// Get returns the user's hash, or ErrNotFound if the user has none.
	Get(ctx context.Context, user UserID) (string, error)
	// Delete removes the user's hash, so no password signs in as the user
	// (an account's first mailbox proof removes a password set before
	// it). Deleting when there is none is not an error.
	Delete(ctx context.Context, user UserID) error
}

// PasswordHasher turns passwords into stored hashes and checks them
// (AUTH-1, AUTH-15). Implementations are safe for concurrent use and bound
// the number of hashes computed at once: a call that cannot start within
// its wait budget returns an error matching ErrRateLimited, and one whose
// ctx ends while waiting returns ctx's error.
type PasswordHasher interface {
	// Hash returns the encoded hash of password at the current parameters.
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches encoded, comparing in
	// constant time. rehash is true when the password matched but encoded
	// uses an older scheme or weaker parameters than Hash would use now.
	// An encoded hash that is malformed, of an unknown scheme, or whose
	// parameters exceed sane bounds returns an error matching ErrInvalid
	// without being computed.
	Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error)
}
