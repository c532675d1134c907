package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"regexp"

	"github.com/stockadehq/stockade/ports"
)

// MinKeySize is the shortest server key accepted for signing cookies.
const MinKeySize = 32

// Key is one server secret used to sign cookies, named by an ID that
// travels in every cookie it signed so keys can rotate.
type Key struct {
	ID     string // 1–16 characters of [a-z0-9-]
	Secret []byte // at least MinKeySize random bytes
}

var keyIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,16}$`)

// Keyring signs with its first key and verifies with any of its keys, so a
// new key can be put first while cookies signed by the old one keep
// working until the old key is removed (AUTH-6).
type Keyring struct {
	keys    []Key
	current Key
}

// NewKeyring returns a keyring over keys, the first being the signing key.
// ErrInvalid when keys is empty, an ID is malformed or repeated, or a
// secret is shorter than MinKeySize.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, ports.Invalid("session keys", "at least one key is required")
	}
	seen := map[string]bool{}
	own := make([]Key, 0, len(keys))
	for _, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, ports.Invalid("session keys", fmt.Sprintf("key id %q must be 1 to 16 of a-z, 0-9 and -", k.ID))
		}
		if seen[k.ID] {
			return nil, ports.Invalid("session keys", fmt.Sprintf("key id %q is repeated", k.ID))
		}
		if len(k.Secret) < MinKeySize {
			return nil, ports.Invalid("session keys", fmt.Sprintf("key %q must have at least %d bytes", k.ID, MinKeySize))
		}
		seen[k.ID] = true
		own = append(own, Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)})
	}
	return &Keyring{keys: own, current: own[0]}, nil
}

// sign returns the current key's ID and HMAC-SHA256 over the
// domain-separated message.
func (r *Keyring) sign(domain string, parts ...[]byte) (string, []byte) {
	return r.current.ID, mac(r.current.Secret, domain, parts...)
}

// verify reports whether sum is the HMAC of the message under the key
// named kid. Unknown key IDs fail. The comparison is constant-time.
func (r *Keyring) verify(kid string, sum []byte, domain string, parts ...[]byte) bool {
	for _, k := range r.keys {
		if k.ID == kid {
			return hmac.Equal(sum, mac(k.Secret, domain, parts...))
		}
	}
	return false
}

// mac is HMAC-SHA256 over domain and each part, each prefixed with its
// length so that no two different part lists produce the same input.
func mac(secret []byte, domain string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, secret)
	writeField(h, []byte(domain))
	for _, p := range parts {
		writeField(h, p)
	}
	return h.Sum(nil)
}

func writeField(h interface{ Write([]byte) (int, error) }, p []byte) {
	var n [4]byte
	n[0], n[1], n[2], n[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
	h.Write(n[:])
	h.Write(p)
}
