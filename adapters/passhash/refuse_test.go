package passhash_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/stockadehq/stockade/ports"
)

// Pieces of a valid reference hash ("password", "somesalt"), so each case
// below breaks exactly one thing.
const (
	refSalt = "c29tZXNhbHQ"
	refKey  = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
)

func TestVerifyRefusesMalformedAndOutOfBoundsHashes(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("password"), bcrypt.MinCost)
	require.NoError(t, err)
	bc := string(b) // "$2a$04$" + 53 characters
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"plain text", "password"},
		{"unknown scheme", "$scrypt$ln=16,r=8,p=1$" + refSalt + "$" + refKey},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=1$" + refSalt + "$" + refKey},
		{"argon2d", "$argon2d$v=19$m=65536,t=2,p=1$" + refSalt + "$" + refKey},
		{"argon2id without version (0x10)", "$argon2id$m=65536,t=2,p=1$" + refSalt + "$" + refKey},
		{"argon2id v=16", "$argon2id$v=16$m=65536,t=2,p=1$" + refSalt + "$" + refKey},
		{"planted m=4194304 (4 GiB)", "$argon2id$v=19$m=4194304,t=2,p=1$" + refSalt + "$" + refKey},
		{"m just over 256 MiB", "$argon2id$v=19$m=262145,t=2,p=1$" + refSalt + "$" + refKey},
		{"m overflowing uint32", "$argon2id$v=19$m=4294967297,t=2,p=1$" + refSalt + "$" + refKey},
		{"m with 30 digits", "$argon2id$v=19$m=" + strings.Repeat("9", 30) + ",t=2,p=1$" + refSalt + "$" + refKey},
		{"m below 8 KiB per lane", "$argon2id$v=19$m=15,t=2,p=2$" + refSalt + "$" + refKey},
		{"t=17", "$argon2id$v=19$m=65536,t=17,p=1$" + refSalt + "$" + refKey},
		{"t=0", "$argon2id$v=19$m=65536,t=0,p=1$" + refSalt + "$" + refKey},
		{"p=17", "$argon2id$v=19$m=65536,t=2,p=17$" + refSalt + "$" + refKey},
		{"p=0", "$argon2id$v=19$m=65536,t=2,p=0$" + refSalt + "$" + refKey},
		{"negative m", "$argon2id$v=19$m=-1,t=2,p=1$" + refSalt + "$" + refKey},
		{"leading zero", "$argon2id$v=19$m=065536,t=2,p=1$" + refSalt + "$" + refKey},
		{"plus sign", "$argon2id$v=19$m=+65536,t=2,p=1$" + refSalt + "$" + refKey},
		{"parameters out of order", "$argon2id$v=19$t=2,m=65536,p=1$" + refSalt + "$" + refKey},
		{"missing p", "$argon2id$v=19$m=65536,t=2$" + refSalt + "$" + refKey},
		{"extra keyid", "$argon2id$v=19$m=65536,t=2,p=1,keyid=abc$" + refSalt + "$" + refKey},
		{"salt of 4 bytes", "$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$" + refKey},
		{"salt of 65 bytes", "$argon2id$v=19$m=65536,t=2,p=1$" + strings.Repeat("A", 87) + "$" + refKey},
		{"key of 8 bytes", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "$CTFhFdXPJO0"},
		{"key of 65 bytes", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "$" + strings.Repeat("A", 87)},
		{"padded base64", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "=$" + refKey},
		{"non-canonical base64", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHR$" + refKey},
		{"URL base64 alphabet", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "$" + strings.ReplaceAll(refKey, "O", "-")},
		{"missing key", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt},
		{"extra field", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "$" + refKey + "$"},
		{"over 256 bytes", "$argon2id$v=19$m=65536,t=2,p=1$" + refSalt + "$" + refKey + strings.Repeat("A", 200)},
		{"bcrypt $2x$", "$2x$" + bc[4:]},
		{"bcrypt $2$", "$2$" + bc[4:]},
		{"bcrypt cost 15", bc[:4] + "15" + bc[6:]},
		{"bcrypt cost 31", bc[:4] + "31" + bc[6:]},
		{"bcrypt cost 03", bc[:4] + "03" + bc[6:]},
		{"bcrypt cost not digits", bc[:4] + "1a" + bc[6:]},
		{"bcrypt truncated", bc[:59]},
		{"bcrypt too long", bc + "A"},
		{"bcrypt bad character", bc[:20] + "*" + bc[21:]},
	}
	ctx := context.Background()
	h := newHasher(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, "password", tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
			assert.False(t, ok)
			assert.False(t, rehash)
		})
	}
}

// TestPlantedHashIsNotComputed proves by allocation, not by time, that an
// out-of-bounds hash is refused before Argon2 runs: a computed hash
// allocates its whole memory parameter, a refused one a few small errors.
func TestPlantedHashIsNotComputed(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t)
	allocated := func(fn func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}

	// Control: the measurement sees Argon2's memory (m=8192 KiB = 8 MiB).
	small := argon2idString(t, "password", 8192, 1, 1, 16, 32)
	control := allocated(func() {
		_, _, err := h.Verify(ctx, "password", small)
		require.NoError(t, err)
	})
	require.GreaterOrEqual(t, control, uint64(8<<20), "a computed hash allocates its memory parameter")

	const calls = 100
	planted := []string{
		"$argon2id$v=19$m=4194304,t=2,p=1$" + refSalt + "$" + refKey,
		"$argon2id$v=19$m=262144,t=4294967295,p=1$" + refSalt + "$" + refKey,
		"$argon2id$v=19$m=262144,t=2,p=255$" + refSalt + "$" + refKey,
	}
	for _, encoded := range planted {
		got := allocated(func() {
			for range calls {
				_, _, err := h.Verify(ctx, "password", encoded)
				require.ErrorIs(t, err, ports.ErrInvalid)
			}
		})
		assert.Less(t, got, uint64(1<<20), "%d refusals of %q allocated %d bytes: the hash was computed", calls, encoded, got)
	}
}
