package passhash_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func TestPasswordHasherConformance(t *testing.T) {
	const pw = "legacy passphrase"
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	porttest.TestPasswordHasher(t, porttest.PasswordHasherHarness{
		New:            func(t *testing.T) ports.PasswordHasher { return newHasher(t) },
		LegacyPassword: pw,
		Legacy: []string{
			string(b),
			argon2idString(t, pw, 4096, 1, 1, 16, 32),
		},
	})
}
