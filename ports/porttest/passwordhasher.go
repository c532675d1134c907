package porttest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// PasswordHasherHarness describes a hasher under test.
type PasswordHasherHarness struct {
	// New returns the hasher at its current parameters.
	New func(t *testing.T) ports.PasswordHasher
	// Legacy are hashes of LegacyPassword made by an older scheme or with
	// weaker parameters than New's; each must verify with rehash=true.
	Legacy         []string
	LegacyPassword string
}

// TestPasswordHasher is the conformance suite of ports.PasswordHasher:
// round trip, constant answers for wrong passwords, per-hash salts, the
// rehash flag and refusal of malformed hashes with ErrInvalid. The
// concurrency bound is the adapter's own test: its shape (slots, memory
// weight, wait) is the adapter's choice.
func TestPasswordHasher(t *testing.T, h PasswordHasherHarness) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		hs := h.New(t)
		enc, err := hs.Hash(ctx, "correct horse battery staple")
		require.NoError(t, err)
		assert.NotContains(t, enc, "correct horse", "the hash must not contain the password")
		ok, rehash, err := hs.Verify(ctx, "correct horse battery staple", enc)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.False(t, rehash, "a hash at current parameters needs no rehash")
		ok, _, err = hs.Verify(ctx, "correct horse battery stapler", enc)
		require.NoError(t, err)
		assert.False(t, ok)
	})
	t.Run("SaltsDiffer", func(t *testing.T) {
		hs := h.New(t)
		a, err := hs.Hash(ctx, "same password twice")
		require.NoError(t, err)
		b, err := hs.Hash(ctx, "same password twice")
		require.NoError(t, err)
		assert.NotEqual(t, a, b)
	})
	t.Run("LegacyHashesVerifyAndAskForRehash", func(t *testing.T) {
		require.NotEmpty(t, h.Legacy, "the harness must give at least one legacy hash")
		hs := h.New(t)
		for _, enc := range h.Legacy {
			ok, rehash, err := hs.Verify(ctx, h.LegacyPassword, enc)
			require.NoError(t, err, enc)
			assert.True(t, ok, enc)
			assert.True(t, rehash, enc)
			ok, _, err = hs.Verify(ctx, h.LegacyPassword+"x", enc)
			require.NoError(t, err, enc)
			assert.False(t, ok, enc)
		}
	})
	t.Run("MalformedHashesAreInvalid", func(t *testing.T) {
		hs := h.New(t)
		good, err := hs.Hash(ctx, "a fine password")
		require.NoError(t, err)
		for _, enc := range []string{"", "plaintext", "$unknown$v=1$abc", good[:len(good)/2], strings.Replace(good, "$", "!", 1)} {
			_, _, err := hs.Verify(ctx, "a fine password", enc)
			assert.ErrorIs(t, err, ports.ErrInvalid, "%q", enc)
		}
	})
}
