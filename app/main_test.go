package app_test

import (
	"os"
	"testing"

	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestMain stops the PostgreSQL cluster testinfra may start.
func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }
