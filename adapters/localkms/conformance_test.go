package localkms_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func masterKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func TestConformance(t *testing.T) {
	porttest.TestKeyManager(t, porttest.KeyManagerHarness{
		New: func(t *testing.T) ports.KeyManager {
			m, err := localkms.New(t.TempDir(), [][]byte{masterKey(t)})
			require.NoError(t, err)
			return m
		},
		KEKVersion: localkms.KEKVersion,
	})
}
