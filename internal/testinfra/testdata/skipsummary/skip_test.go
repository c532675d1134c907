// Package skipsummary is run by testinfra's TestPlainGoTestShowsTheSkipSummary
// with its own `go test`: three tests skip through testinfra.Missing for two
// invented parts, one runs.
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
