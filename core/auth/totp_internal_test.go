package auth

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// memKeys is a ports.KeyManager that "wraps" by XOR with a per-shop pad:
// enough to test that sealing goes through the key manager, under
// FactorKeyScope, and not a real one.
type memKeys struct{ pad [64]byte }

func (m *memKeys) WrapKey(_ context.Context, shop ports.ShopID, k []byte) ([]byte, error) {
	if shop != FactorKeyScope() {
		return nil, ports.Invalid("shop", "not the factor key scope")
	}
	out := make([]byte, len(k))
	for i := range k {
		out[i] = k[i] ^ m.pad[i]
	}
	return out, nil
}

func (m *memKeys) UnwrapKey(ctx context.Context, shop ports.ShopID, w []byte) ([]byte, error) {
	return m.WrapKey(ctx, shop, w)
}
func (m *memKeys) RotateKey(context.Context, ports.ShopID) error   { return nil }
func (m *memKeys) DestroyKeys(context.Context, ports.ShopID) error { return nil }

func newSealer(t testing.TB) *Service {
	m := &memKeys{}
	_, _ = rand.Read(m.pad[:])
	return &Service{factorKeys: m, cfg: Config{}.WithDefaults()}
}

func TestSealedSecretIsBoundToItsOwner(t *testing.T) {
	s := newSealer(t)
	ctx := context.Background()
	alice, bob := ports.UserFactors(ports.NewUserID()), ports.UserFactors(ports.NewUserID())
	secret := []byte("12345678901234567890")
	sealed, err := s.sealSecret(ctx, alice, secret)
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), string(secret), "sealed, not stored")
	got, err := s.openSecret(ctx, alice, sealed)
	require.NoError(t, err)
	assert.Equal(t, secret, got)
	_, err = s.openSecret(ctx, bob, sealed)
	assert.ErrorIs(t, err, ports.ErrInvalid, "copied to another owner's row, it does not open")
	_, err = s.openSecret(ctx, ports.OperatorFactors(ports.OperatorID{UUID: alice.User.UUID}), sealed)
	assert.ErrorIs(t, err, ports.ErrInvalid, "nor as an operator's with the same ID")
	sealed[len(sealed)-1] ^= 1
	_, err = s.openSecret(ctx, alice, sealed)
	assert.ErrorIs(t, err, ports.ErrInvalid, "altered")
	_, err = (&Service{}).sealSecret(ctx, alice, secret)
	assert.ErrorIs(t, err, ports.ErrUnavailable, "no key manager, no second factors")
}

// TestMatchTOTP checks RFC 6238's SHA-1 test vector (the 8-digit codes
// end in the 6-digit ones) and the ±1 step window.
func TestMatchTOTP(t *testing.T) {
	secret := []byte("12345678901234567890") // RFC 6238 appendix B
	at := time.Unix(1111111109, 0)           // 8-digit code 07081804
	step, ok := matchTOTP(secret, "081804", at)
	require.True(t, ok)
	assert.Equal(t, int64(1111111109/30), step)
	_, ok = matchTOTP(secret, "081 804", at.Add(30*time.Second))
	assert.True(t, ok, "the previous step's code, typed with a space, within the window")
	step, ok = matchTOTP(secret, "081804", at.Add(-30*time.Second))
	assert.True(t, ok, "the next step's code (a clock behind)")
	assert.Equal(t, int64(1111111109/30), step)
	_, ok = matchTOTP(secret, "081804", at.Add(61*time.Second))
	assert.False(t, ok, "two steps late")
	for _, bad := range []string{"", "08180", "0818045", "08180x", "abcdef"} {
		_, ok = matchTOTP(secret, bad, at)
		assert.False(t, ok, bad)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	require.Len(t, codes, RecoveryCodeCount)
	stored := make([]ports.RecoveryCode, len(hashes))
	for i, h := range hashes {
		stored[i] = ports.RecoveryCode{Hash: h}
	}
	h, ok := matchRecoveryCode(stored, codes[3])
	require.True(t, ok)
	assert.Equal(t, hashes[3], h)
	_, ok = matchRecoveryCode(stored, " "+codes[3][:4]+codes[3][5:]+" ")
	assert.True(t, ok, "without dashes, with spaces")
	stored[3].UsedAt = time.Now()
	_, ok = matchRecoveryCode(stored, codes[3])
	assert.False(t, ok, "a used code")
	_, ok = matchRecoveryCode(stored, "aaaa-aaaa-aaaa-aaaa")
	assert.False(t, ok)
	assert.Len(t, codes[0], 19)
}

// BenchmarkTOTPVerify measures one TOTP check: matching a code against
// the ±1 step window (three HMAC-SHA1), and that after opening the sealed
// secret (AES-GCM under a key from the key manager; the in-memory one
// here, so the key manager's own cost is left out).
func BenchmarkTOTPVerify(b *testing.B) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111109, 0)
	b.Run("match", func(b *testing.B) {
		for b.Loop() {
			if _, ok := matchTOTP(secret, "081804", now); !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("open+match", func(b *testing.B) {
		s := newSealer(b)
		owner := ports.UserFactors(ports.NewUserID())
		sealed, err := s.sealSecret(context.Background(), owner, secret)
		require.NoError(b, err)
		for b.Loop() {
			raw, err := s.openSecret(context.Background(), owner, sealed)
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := matchTOTP(raw, "081804", now); !ok {
				b.Fatal("no match")
			}
		}
	})
}
