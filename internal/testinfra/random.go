package testinfra

import (
	"crypto/rand"
	"encoding/hex"
)

// randomHex returns n random bytes from crypto/rand as 2n lowercase hex
// characters, usable unquoted in identifiers, passwords and URLs.
func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program if the system's random source fails.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
