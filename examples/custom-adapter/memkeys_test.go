package memkeys

import (
	"testing"

	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// harness is the conformance suite's view of a key manager from newKM.
func harness(newKM func() *KeyManager) porttest.KeyManagerHarness {
	return porttest.KeyManagerHarness{
		New:        func(*testing.T) ports.KeyManager { return newKM() },
		KEKVersion: KEKVersion,
	}
}

// TestConformance proves the adapter with Stockade's suite for the port.
func TestConformance(t *testing.T) {
	porttest.TestKeyManager(t, harness(New))
}

// TestConformanceCatchesTheBrokenVariant proves the suite can fail: a
// DestroyKeys that resets the shop's version counter forgets which
// versions it issued, so a blob wrapped before the destruction no longer
// reads "key destroyed" (ErrNotFound) but "does not open" (ErrInvalid),
// and the next KEK would reuse version 1: a crypto-shredded object looks
// corrupted instead of deleted.
func TestConformanceCatchesTheBrokenVariant(t *testing.T) {
	porttest.ExpectFailure(t, func(t *testing.T) {
		porttest.TestKeyManager(t, harness(func() *KeyManager {
			km := New()
			km.forgetVersions = true
			return km
		}))
	}, "--- FAIL: TestConformanceCatchesTheBrokenVariant/Destroy", "after DestroyKeys")
}
