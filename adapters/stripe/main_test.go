package stripe_test

import (
	"os"
	"testing"

	"github.com/stockadehq/stockade/internal/testinfra"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }
