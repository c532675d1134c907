package cli_test

import (
	"os"
	"testing"

	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestMain lets testinfra stop the real parts (stripe-mock) the tests
// started.
func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }
