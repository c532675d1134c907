package auth

import (
	"crypto/rand"
	"crypto/sha256"
)

// tokenSize is the entropy of every bearer secret Stockade mints: 256 bits.
const tokenSize = 32

// newToken returns tokenSize random bytes from crypto/rand.
func newToken() []byte {
	b := make([]byte, tokenSize)
	rand.Read(b) // never fails since Go 1.24
	return b
}

// hashToken is what stores keep instead of a token.
func hashToken(token []byte) []byte {
	sum := sha256.Sum256(token)
	return sum[:]
}
