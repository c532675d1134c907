// Package passhash is the ports.PasswordHasher adapter (AUTH-1, AUTH-15).
//
// New hashes are Argon2id (golang.org/x/crypto/argon2) in the PHC string
// format
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64, at OWASP's parameters
// unless configured otherwise. Verify also accepts Argon2id hashes made with
// other parameters and bcrypt hashes ($2a$, $2b$, $2y$) imported from older
// systems, and asks for a rehash when such a hash matches.
//
// A stored hash is parsed and bounds-checked before any work is done: one
// that is malformed, of an unknown scheme or beyond the bounds in this
// package (memory, passes, lanes, salt and key length, bcrypt cost) is
// refused with an error matching ports.ErrInvalid and never computed, so a
// planted hash cannot be used to exhaust memory or CPU.
//
// Computation is bounded by a weighted semaphore measured in memory: the
// budget is MaxConcurrent hashes at the current parameters, and a stored
// Argon2id hash that needs more memory takes a proportionally larger share.
// A call that cannot start within MaxWait fails with ports.ErrRateLimited.
package passhash
