package passhash_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/ports"
)

// newHasher returns a Hasher at the defaults (OWASP's parameters).
func newHasher(t testing.TB) *passhash.Hasher {
	t.Helper()
	h, err := passhash.New(passhash.Config{})
	require.NoError(t, err)
	return h
}

// argon2idString makes a PHC string with x/crypto directly, independent of
// the encoder under test.
func argon2idString(t testing.TB, password string, m, tm uint32, p uint8, saltLen, keyLen int) string {
	t.Helper()
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, tm, m, p, uint32(keyLen))
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestNewDefaultsAreOWASP(t *testing.T) {
	h := newHasher(t)
	assert.Equal(t, passhash.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, h.Params())
}

func TestNewRefusesParametersOutOfBounds(t *testing.T) {
	tests := []struct {
		name string
		give passhash.Config
	}{
		{"memory below OWASP floor", passhash.Config{Params: passhash.Params{Memory: 4096, Time: 16}}},
		{"memory above 256 MiB", passhash.Config{Params: passhash.Params{Memory: 256*1024 + 1}}},
		{"memory×time below OWASP floor", passhash.Config{Params: passhash.Params{Memory: 19456, Time: 1}}},
		{"time above 16", passhash.Config{Params: passhash.Params{Time: 17}}},
		{"threads above 16", passhash.Config{Params: passhash.Params{Threads: 17}}},
		{"threads that would wrap a uint8", passhash.Config{Params: passhash.Params{Threads: 257}}},
		{"salt shorter than 16", passhash.Config{Params: passhash.Params{SaltLen: 8}}},
		{"salt longer than 64", passhash.Config{Params: passhash.Params{SaltLen: 65}}},
		{"key shorter than 16", passhash.Config{Params: passhash.Params{KeyLen: 8}}},
		{"key longer than 64", passhash.Config{Params: passhash.Params{KeyLen: 65}}},
		{"negative max concurrent", passhash.Config{MaxConcurrent: -1}},
		{"max concurrent above 1024", passhash.Config{MaxConcurrent: 1025}},
		{"negative max wait", passhash.Config{MaxWait: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := passhash.New(tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t)

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), encoded)

	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
	require.NoError(t, err)
	assert.True(t, ok, "right password")
	assert.False(t, rehash, "hash at current parameters")

	ok, rehash, err = h.Verify(ctx, "correct horse battery stapler", encoded)
	require.NoError(t, err)
	assert.False(t, ok, "wrong password")
	assert.False(t, rehash, "no rehash without a match")

	again, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.NotEqual(t, encoded, again, "each hash has its own salt")
}

// TestVerifyReferenceVectors checks hashes written by the Argon2 reference
// implementation (phc-winner-argon2; the same strings are in libar2's
// test.c): "password" with salt "somesalt" unless noted.
func TestVerifyReferenceVectors(t *testing.T) {
	tests := []struct {
		name     string
		password string
		encoded  string
	}{
		{"m=65536 t=2 p=1", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
		{"m=256 t=2 p=2", "password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
		{"m=65536 t=1 p=1", "password", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
		{"differentpassword", "differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
		{"salt diffsalt", "password", "$argon2id$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw"},
	}
	ctx := context.Background()
	h := newHasher(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.password, tt.encoded)
			require.NoError(t, err)
			assert.True(t, ok, "reference hash verifies")
			assert.True(t, rehash, "reference parameters differ from the current ones")

			ok, _, err = h.Verify(ctx, tt.password+"x", tt.encoded)
			require.NoError(t, err)
			assert.False(t, ok, "another password does not")
		})
	}
}

func TestVerifyArgon2idOtherParametersAsksRehash(t *testing.T) {
	tests := []struct {
		name            string
		m, tm           uint32
		p               uint8
		saltLen, keyLen int
		wantRehash      bool
	}{
		{"current", 19456, 2, 1, 16, 32, false},
		{"old m=4096 t=1", 4096, 1, 1, 16, 32, true},
		{"fewer passes", 19456, 1, 1, 16, 32, true},
		{"more passes", 19456, 3, 1, 16, 32, true},
		{"two lanes", 19456, 2, 2, 16, 32, true},
		{"8-byte salt", 19456, 2, 1, 8, 32, true},
		{"16-byte key", 19456, 2, 1, 16, 16, true},
	}
	ctx := context.Background()
	h := newHasher(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded := argon2idString(t, "hunter2hunter2", tt.m, tt.tm, tt.p, tt.saltLen, tt.keyLen)

			ok, rehash, err := h.Verify(ctx, "hunter2hunter2", encoded)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, tt.wantRehash, rehash)
		})
	}
}

func TestVerifyBcrypt(t *testing.T) {
	const password = "Tr0ub4dor&3-legacy"
	a, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(a), "$2a$"), "x/crypto writes $2a$")
	long := strings.Repeat("L", 72)
	longHash, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	require.NoError(t, err)

	tests := []struct {
		name     string
		password string
		encoded  string
		wantOK   bool
	}{
		{"$2a$", password, string(a), true},
		{"$2b$", password, "$2b$" + string(a[4:]), true},
		{"$2y$ unchanged", password, "$2y$" + string(a[4:]), true},
		{"$2a$ wrong password", password + "!", string(a), false},
		{"$2y$ wrong password", password + "!", "$2y$" + string(a[4:]), false},
		// Legacy systems hashed only the first 72 bytes; so do we.
		{"over 72 bytes compares the first 72", long + "ignored", string(longHash), true},
		{"71 bytes of a 72-byte password", long[:71], string(longHash), false},
	}
	ctx := context.Background()
	h := newHasher(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.password, tt.encoded)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantOK, rehash, "every matched bcrypt hash is rehashed")
		})
	}
}

func TestHashAndVerifyRefusePasswordsOutOfRange(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t)
	valid := argon2idString(t, "x", 4096, 1, 1, 16, 32)
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"over 1024 bytes", strings.Repeat("a", passhash.MaxPasswordBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Hash(ctx, tt.give)
			var inv *ports.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "password", inv.Field)

			_, _, err = h.Verify(ctx, tt.give, valid)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func TestHashAcceptsMaxPasswordBytes(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t)
	pw := strings.Repeat("é", passhash.MaxPasswordBytes/2) // 1024 bytes
	encoded, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	ok, _, err := h.Verify(ctx, pw, encoded)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestVerifyWrapsErrorsWithoutEchoingTheHash(t *testing.T) {
	const planted = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	_, _, err := newHasher(t).Verify(context.Background(), "password", planted)
	require.Error(t, err)
	assert.ErrorIs(t, err, ports.ErrInvalid)
	assert.NotContains(t, err.Error(), "CTFhFdXPJO1a", "the stored hash stays out of error messages")
}

func TestConfiguredParamsAreUsedAndOthersRehashed(t *testing.T) {
	ctx := context.Background()
	custom, err := passhash.New(passhash.Config{Params: passhash.Params{Memory: 12288, Time: 3}})
	require.NoError(t, err)
	encoded, err := custom.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=12288,t=3,p=1$"), encoded)

	ok, rehash, err := custom.Verify(ctx, "correct horse battery staple", encoded)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash, "current for the hasher that made it")

	ok, rehash, err = newHasher(t).Verify(ctx, "correct horse battery staple", encoded)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash, "not current for a hasher at the defaults")
}
