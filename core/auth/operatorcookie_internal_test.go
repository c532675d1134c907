package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestOperatorCookie: an operator cookie round-trips; it is not a session
// cookie for any shop, a session cookie is not an operator cookie, and a
// tampered or re-encoded one is refused before any lookup.
func TestOperatorCookie(t *testing.T) {
	keys := testKeyring(t, testKey("k1", 1))
	cred := operatorCredential{ID: ports.NewOperatorSessionID(), Token: newToken()}
	value := encodeOperatorCookie(keys, cred)
	got, err := decodeOperatorCookie(keys, value)
	require.NoError(t, err)
	assert.Equal(t, cred, got)

	// The same ID and token, one cookie kind for the other: the MAC domains
	// differ, so neither passes.
	shop := ports.NewShopID()
	_, err = decodeSessionCookie(keys, shop, value)
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "an operator cookie is no session cookie")
	member := encodeSessionCookie(keys, shop, sessionCredential{ID: ports.SessionID{UUID: cred.ID.UUID}, Token: cred.Token})
	_, err = decodeOperatorCookie(keys, member)
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a session cookie is no operator cookie")

	parts := strings.Split(value, ".")
	// 32 MAC bytes take 43 base64 characters, 258 bits: the last
	// character's two low bits are unused. Flipping one changes no byte a
	// lenient decoder returns; a strict one refuses it.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := parts[4]
	flipped := last[:len(last)-1] + string(alphabet[strings.IndexByte(alphabet, last[len(last)-1])^1])
	tests := map[string]string{
		"empty":           "",
		"other key":       encodeOperatorCookie(testKeyring(t, testKey("k1", 2)), cred),
		"unknown key id":  strings.Join([]string{parts[0], "k9", parts[2], parts[3], parts[4]}, "."),
		"unused mac bits": strings.Join([]string{parts[0], parts[1], parts[2], parts[3], flipped}, "."),
		"padded token":    strings.Join([]string{parts[0], parts[1], parts[2], parts[3] + "=", parts[4]}, "."),
		"version":         strings.Replace(value, "v1.", "v2.", 1),
		"too long":        value + strings.Repeat("A", 300),
	}
	for name, v := range tests {
		_, err := decodeOperatorCookie(keys, v)
		require.ErrorIs(t, err, ports.ErrUnauthenticated, name)
	}
}
