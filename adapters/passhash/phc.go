package passhash

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// argon2Version is the only Argon2 version golang.org/x/crypto implements
// (0x13); hashes without a version field are the older 0x10 and are refused.
const argon2Version = 19

const argon2idPrefix = "$argon2id$"

// maxEncodedLen bounds the length of a stored hash read before parsing. The
// longest Argon2id string within bounds is about 210 bytes and bcrypt's is
// 60, so anything longer is malformed.
const maxEncodedLen = 256

// b64 is the PHC string format's base64: standard alphabet, no padding. Strict
// refuses non-zero trailing bits, so every accepted string is canonical.
var b64 = base64.RawStdEncoding.Strict()

// argonHash is a parsed Argon2id PHC string.
type argonHash struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// encodeArgon2id formats an Argon2id hash as a PHC string.
func encodeArgon2id(p Params, salt, key []byte) string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", argon2idPrefix, argon2Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errHash returns an error matching ports.ErrInvalid for a stored hash that
// is refused. It never includes the hash itself.
func errHash(format string, args ...any) error {
	return fmt.Errorf("passhash: stored hash: %s: %w", fmt.Sprintf(format, args...), ports.ErrInvalid)
}

// parseArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" and checks
// every field against the package bounds before decoding anything, so a
// refused string costs no more than its own length. Fields must appear in
// that order, in decimal without sign or leading zeros, as the reference
// implementation writes them; optional PHC fields (keyid, data) are refused.
func parseArgon2id(s string) (argonHash, error) {
	var h argonHash
	rest, ok := strings.CutPrefix(s, argon2idPrefix)
	if !ok {
		return h, errHash("unknown scheme (want $argon2id$, $2a$, $2b$ or $2y$)")
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return h, errHash("argon2id: want 4 fields after the scheme, got %d", len(parts))
	}
	version, params, salt, key := parts[0], parts[1], parts[2], parts[3]

	v, ok := strings.CutPrefix(version, "v=")
	if !ok {
		return h, errHash("argon2id: missing version")
	}
	if n, err := parseDecimal(v); err != nil || n != argon2Version {
		return h, errHash("argon2id: unsupported version %q", v)
	}

	fields := strings.Split(params, ",")
	if len(fields) != 3 {
		return h, errHash("argon2id: want m, t and p, got %d parameters", len(fields))
	}
	var vals [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return h, errHash("argon2id: parameter %d is not %s", i+1, name)
		}
		n, err := parseDecimal(val)
		if err != nil {
			return h, errHash("argon2id: %s: %v", name, err)
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > MaxThreads:
		return h, errHash("argon2id: p=%d outside [1, %d]", p, MaxThreads)
	case t < 1 || t > MaxTime:
		return h, errHash("argon2id: t=%d outside [1, %d]", t, MaxTime)
	case m < 8*p || m > MaxMemory:
		// Argon2 needs at least 8 KiB per lane.
		return h, errHash("argon2id: m=%d outside [%d, %d]", m, 8*p, MaxMemory)
	}

	if n := len(salt); n < b64.EncodedLen(MinSaltLen) || n > b64.EncodedLen(MaxSaltLen) {
		return h, errHash("argon2id: salt length outside [%d, %d] bytes", MinSaltLen, MaxSaltLen)
	}
	if n := len(key); n < b64.EncodedLen(MinKeyLen) || n > b64.EncodedLen(MaxKeyLen) {
		return h, errHash("argon2id: key length outside [%d, %d] bytes", MinKeyLen, MaxKeyLen)
	}
	saltBytes, err := b64.DecodeString(salt)
	if err != nil {
		return h, errHash("argon2id: salt is not unpadded base64")
	}
	keyBytes, err := b64.DecodeString(key)
	if err != nil {
		return h, errHash("argon2id: key is not unpadded base64")
	}
	return argonHash{
		memory:  uint32(m),
		time:    uint32(t),
		threads: uint8(p),
		salt:    saltBytes,
		key:     keyBytes,
	}, nil
}

// parseDecimal parses a PHC decimal: ASCII digits only, no sign, no leading
// zero, at most 10 digits (so it cannot overflow before the bounds check).
func parseDecimal(s string) (uint64, error) {
	switch {
	case s == "":
		return 0, errors.New("empty number")
	case len(s) > 10:
		return 0, errors.New("number too long")
	case len(s) > 1 && s[0] == '0':
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
