package auth

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func testKey(id string, fill byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, MinKeySize)}
}

func testKeyring(t *testing.T, keys ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys...)
	require.NoError(t, err)
	return r
}

func testCredential() sessionCredential {
	return sessionCredential{ID: ports.NewSessionID(), Token: newToken()}
}

func TestSessionCookieRoundTrip(t *testing.T) {
	keys := testKeyring(t, testKey("k1", 1))
	shop := ports.NewShopID()
	cred := testCredential()
	value := encodeSessionCookie(keys, shop, cred)

	parts := strings.Split(value, ".")
	require.Len(t, parts, 5)
	assert.Equal(t, "v1", parts[0])
	assert.Equal(t, "k1", parts[1])
	assert.LessOrEqual(t, len(value), 256, "fits the decoder's bound")
	assert.NotContains(t, value, "=", "unpadded")

	got, err := decodeSessionCookie(keys, shop, value)
	require.NoError(t, err)
	assert.Equal(t, cred, got)
}

// Guards decodeSessionCookie's every check: each malformed or re-signed
// variant is refused with an error matching ErrUnauthenticated.
func TestSessionCookieRefusals(t *testing.T) {
	keys := testKeyring(t, testKey("k1", 1))
	shop := ports.NewShopID()
	cred := testCredential()
	value := encodeSessionCookie(keys, shop, cred)
	parts := strings.Split(value, ".")
	enc := base64.RawURLEncoding
	with := func(i int, s string) string {
		p := append([]string(nil), parts...)
		p[i] = s
		return strings.Join(p, ".")
	}
	flip := func(i int) string {
		b, err := enc.DecodeString(parts[i])
		require.NoError(t, err)
		b[len(b)-1] ^= 1
		return with(i, enc.EncodeToString(b))
	}
	otherKeys := testKeyring(t, testKey("k1", 2))
	nilID := sessionCredential{ID: ports.SessionID{UUID: uuid.Nil}, Token: cred.Token}

	tests := []struct {
		name string
		shop ports.ShopID
		give string
	}{
		{"another shop", ports.NewShopID(), value},
		{"ID changed", shop, flip(2)},
		{"token changed", shop, flip(3)},
		{"MAC changed", shop, flip(4)},
		{"unknown key ID", shop, with(1, "k2")},
		{"signed with another secret under the same ID", shop, encodeSessionCookie(otherKeys, shop, cred)},
		{"version", shop, with(0, "v0")},
		{"empty", shop, ""},
		{"four fields", shop, strings.Join(parts[:4], ".")},
		{"six fields", shop, value + ".x"},
		{"padded base64", shop, with(3, parts[3]+"=")},
		{"standard base64 alphabet", shop, with(3, strings.NewReplacer("-", "+", "_", "/").Replace(parts[3])+"+")},
		{"short token", shop, with(3, enc.EncodeToString(cred.Token[:31]))},
		{"long token", shop, with(3, enc.EncodeToString(append(cred.Token, 0)))},
		{"short ID", shop, with(2, enc.EncodeToString(make([]byte, 15)))},
		{"short MAC", shop, with(4, parts[4][:42])},
		{"nil session ID, validly signed", shop, encodeSessionCookie(keys, shop, nilID)},
		{"over 256 bytes", shop, value + strings.Repeat("A", 257-len(value))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeSessionCookie(keys, tt.shop, tt.give)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
		})
	}
}

// Guards Keyring.verify looking up the cookie's key ID: a new key put
// first signs, the old one still verifies until removed (AUTH-6 rotation).
func TestKeyRotation(t *testing.T) {
	shop := ports.NewShopID()
	cred := testCredential()
	old := testKeyring(t, testKey("k1", 1))
	rotated := testKeyring(t, testKey("k2", 2), testKey("k1", 1))
	retired := testKeyring(t, testKey("k2", 2))

	oldCookie := encodeSessionCookie(old, shop, cred)
	_, err := decodeSessionCookie(rotated, shop, oldCookie)
	require.NoError(t, err, "an old cookie works while its key is on the ring")
	_, err = decodeSessionCookie(retired, shop, oldCookie)
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "and stops once the key is removed")

	newCookie := encodeSessionCookie(rotated, shop, cred)
	assert.Equal(t, "k2", strings.Split(newCookie, ".")[1], "the first key signs")
	_, err = decodeSessionCookie(retired, shop, newCookie)
	require.NoError(t, err)
}

// Guards mac's length prefixes and domain separation: moving bytes
// between parts, or reusing a MAC from another purpose, gives another MAC.
func TestMACFraming(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	assert.NotEqual(t, mac(secret, "d", []byte("ab"), []byte("c")), mac(secret, "d", []byte("a"), []byte("bc")))
	assert.NotEqual(t, mac(secret, "d", []byte("abc")), mac(secret, "d", []byte("abc"), nil))
	assert.NotEqual(t, mac(secret, sessionDomain, []byte("x")), mac(secret, oidcDomain, []byte("x")))
	assert.Len(t, mac(secret, "d"), 32)

	keys := testKeyring(t, testKey("k1", 1))
	shop := ports.NewShopID()
	cred := testCredential()
	id := cred.ID.UUID
	kid, sum := keys.sign(oidcDomain, shop.UUID[:], id[:], cred.Token)
	enc := base64.RawURLEncoding
	crossDomain := strings.Join([]string{"v1", kid, enc.EncodeToString(id[:]), enc.EncodeToString(cred.Token), enc.EncodeToString(sum)}, ".")
	_, err := decodeSessionCookie(keys, shop, crossDomain)
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
}

func TestNewKeyring(t *testing.T) {
	tests := []struct {
		name    string
		give    []Key
		wantErr error
	}{
		{"one key", []Key{testKey("k1", 1)}, nil},
		{"two keys", []Key{testKey("k1", 1), testKey("2026-03", 2)}, nil},
		{"none", nil, ports.ErrInvalid},
		{"short secret", []Key{{ID: "k1", Secret: make([]byte, MinKeySize-1)}}, ports.ErrInvalid},
		{"empty ID", []Key{{ID: "", Secret: make([]byte, 32)}}, ports.ErrInvalid},
		{"upper case ID", []Key{{ID: "K1", Secret: make([]byte, 32)}}, ports.ErrInvalid},
		{"dot in ID", []Key{{ID: "k.1", Secret: make([]byte, 32)}}, ports.ErrInvalid},
		{"17-character ID", []Key{{ID: strings.Repeat("a", 17), Secret: make([]byte, 32)}}, ports.ErrInvalid},
		{"repeated ID", []Key{testKey("k1", 1), testKey("k1", 2)}, ports.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(tt.give...)
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

// The keyring keeps its own copy: a caller zeroing or reusing its buffer
// does not change the key.
func TestKeyringCopiesSecrets(t *testing.T) {
	secret := bytes.Repeat([]byte{9}, 32)
	keys := testKeyring(t, Key{ID: "k1", Secret: secret})
	shop := ports.NewShopID()
	value := encodeSessionCookie(keys, shop, testCredential())
	clear(secret)
	_, err := decodeSessionCookie(keys, shop, value)
	require.NoError(t, err)
}
