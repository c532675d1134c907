package passhash

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcryptLen is the length of a modular-crypt bcrypt string:
// "$2b$" + two-digit cost + "$" + 22 salt characters + 31 hash characters.
const bcryptLen = 60

// bcryptMaxPassword is the number of password bytes bcrypt reads; every
// implementation ignores the rest.
const bcryptMaxPassword = 72

// isBcrypt reports whether s claims one of the bcrypt schemes Verify
// accepts. $2a$, $2b$ and $2y$ name the same algorithm with different bug
// histories in other implementations; the older $2$ and the buggy $2x$ are
// not accepted.
func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// checkBcrypt validates a bcrypt string's shape and cost without computing
// it and returns the cost.
func checkBcrypt(s string) (int, error) {
	if len(s) != bcryptLen {
		return 0, errHash("bcrypt: length %d, want %d", len(s), bcryptLen)
	}
	if s[6] != '$' || !isDigit(s[4]) || !isDigit(s[5]) {
		return 0, errHash("bcrypt: malformed cost")
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return 0, errHash("bcrypt: cost %d outside [%d, %d]", cost, MinBcryptCost, MaxBcryptCost)
	}
	for i := 7; i < len(s); i++ {
		if !isBcryptBase64(s[i]) {
			return 0, errHash("bcrypt: salt or hash is not bcrypt base64")
		}
	}
	return cost, nil
}

// verifyBcrypt compares password with a checked bcrypt string. Go's bcrypt
// accepts the $2y$ prefix as it is (it keeps the minor version and compares
// the re-encoded string in constant time), so no rewriting is needed.
//
// Passwords longer than 72 bytes are compared on their first 72 bytes,
// exactly as the system that wrote the hash did (PHP, OpenBSD, node.bcrypt
// and Go all ignore the rest), so users imported with a long password can
// still sign in; the rehash then covers the whole password.
func verifyBcrypt(password, encoded string) (bool, error) {
	pw := []byte(password)
	if len(pw) > bcryptMaxPassword {
		pw = pw[:bcryptMaxPassword]
	}
	err := bcrypt.CompareHashAndPassword([]byte(encoded), pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	// Only an undecodable salt gets past checkBcrypt to here.
	return false, errHash("bcrypt: %s", strings.TrimPrefix(fmt.Sprint(err), "crypto/bcrypt: "))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isBcryptBase64 reports whether c is in bcrypt's base64 alphabet
// ("./A-Za-z0-9").
func isBcryptBase64(c byte) bool {
	return c == '.' || c == '/' || isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}
