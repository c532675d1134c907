package messaging

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

type noStore struct{ ports.Store }

func tokenService(t *testing.T, keys ...[]byte) *Service {
	t.Helper()
	s, err := New(Deps{Store: noStore{}}, Config{UnsubscribeKeys: keys})
	require.NoError(t, err)
	return s
}

func TestUnsubscribeTokenIsBoundToShopAndContact(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s := tokenService(t, key)
	shop, other := ports.NewShopID(), ports.NewShopID()
	ann, bob := ports.NewContactID(), ports.NewContactID()
	token, err := s.unsubscribeToken(shop, ann)
	require.NoError(t, err)
	assert.Len(t, token, 64, "base64url of 16 + 32 bytes")

	got, err := s.verifyToken(shop, token)
	require.NoError(t, err)
	assert.Equal(t, ann, got)

	_, err = s.verifyToken(other, token)
	require.ErrorIs(t, err, ports.ErrNotFound, "another shop's host")

	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	swapped := append(append([]byte(nil), bob.UUID[:]...), raw[16:]...)
	_, err = s.verifyToken(shop, base64.RawURLEncoding.EncodeToString(swapped))
	require.ErrorIs(t, err, ports.ErrNotFound, "another contact's ID with ann's MAC")

	for i := range raw {
		edited := append([]byte(nil), raw...)
		edited[i] ^= 0x01
		_, err := s.verifyToken(shop, base64.RawURLEncoding.EncodeToString(edited))
		require.ErrorIs(t, err, ports.ErrNotFound, "byte %d flipped", i)
	}
	for _, bad := range []string{"", token[:63], token + "A", token[:62] + "==", "../../" + token[6:], string(bytes.Repeat([]byte("A"), 64))} {
		_, err := s.verifyToken(shop, bad)
		require.ErrorIs(t, err, ports.ErrNotFound, "%q", bad)
	}

	forger := tokenService(t, bytes.Repeat([]byte{8}, 32))
	forged, err := forger.unsubscribeToken(shop, ann)
	require.NoError(t, err)
	_, err = s.verifyToken(shop, forged)
	require.ErrorIs(t, err, ports.ErrNotFound, "a token signed with another key")
}

func TestUnsubscribeKeysRotate(t *testing.T) {
	old, fresh := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	shop, ann := ports.NewShopID(), ports.NewContactID()
	mailed, err := tokenService(t, old).unsubscribeToken(shop, ann)
	require.NoError(t, err)
	rotated := tokenService(t, fresh, old)
	got, err := rotated.verifyToken(shop, mailed)
	require.NoError(t, err, "links mailed under the old key keep working")
	assert.Equal(t, ann, got)
	newer, err := rotated.unsubscribeToken(shop, ann)
	require.NoError(t, err)
	assert.NotEqual(t, mailed, newer, "the new key signs")
	_, err = tokenService(t, old).verifyToken(shop, newer)
	require.ErrorIs(t, err, ports.ErrNotFound)

	_, err = New(Deps{Store: noStore{}}, Config{UnsubscribeKeys: [][]byte{[]byte("short")}})
	require.ErrorIs(t, err, ports.ErrInvalid, "keys are at least 32 bytes")
	_, err = tokenService(t).unsubscribeToken(shop, ann)
	require.ErrorIs(t, err, ports.ErrUnavailable, "no key, no marketing e-mail")
}

func TestMaskEmail(t *testing.T) {
	assert.Equal(t, "a***@example.com", maskEmail("ann.smith@example.com"))
	assert.Equal(t, "", maskEmail(""))
}
