// Package skipsummary is run by testinfra's TestPlainGoTestShowsTheSkipSummary
// with its own `go test` and without stripe-mock: three tests skip through
// testinfra.Missing for two invented parts, one leaves its stripe-mock cases
// out in a skipped subtest, one runs.
package skipsummary_test

import (
	"os"
	"testing"

	"github.com/stockadehq/stockade/internal/testinfra"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }

func TestNeedsWidget(t *testing.T) {
	testinfra.Missing(t, "Widget", "widgetd not on PATH", "apt-get install widget")
}

func TestNeedsGadget(t *testing.T) {
	testinfra.Missing(t, "Gadget", "no gadget", "make gadget")
}

func TestNeedsWidgetToo(t *testing.T) {
	t.Run("inner", func(t *testing.T) {
		testinfra.Missing(t, "Widget", "widgetd not on PATH", "apt-get install widget")
	})
}

func TestRuns(t *testing.T) {}

// TestWithoutStripeMock runs without stripe-mock (the caller hides it),
// leaving out its billing cases in a skipped subtest.
func TestWithoutStripeMock(t *testing.T) {
	if _, ok := testinfra.OptionalStripeMock(t); ok {
		t.Fatal("the fixture must run without stripe-mock")
	}
	t.Run("billing", func(t *testing.T) {
		testinfra.SkipWithoutStripeMock(t, "the fixture's billing cases")
		t.Fatal("SkipWithoutStripeMock returned without stripe-mock")
	})
}
