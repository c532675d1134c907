package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// screenshotWidths are the widths of the screenshots: a laptop and a
// phone.
var screenshotWidths = []int64{1280, 375}

// screenshotDir is where TestScreenshots writes: docs/screenshots of the
// repository when STOCKADE_SCREENSHOTS=1 (to refresh the committed
// images), else a temporary directory, so the code runs in CI without
// touching the checkout.
func screenshotDir(t *testing.T) string {
	if os.Getenv("STOCKADE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "screenshots")
	}
	return t.TempDir()
}

// TestScreenshots takes a full-page PNG of every page of browserPages
// marked shot, at each width of screenshotWidths, as
// <dir>/<page>-<width>.png (see screenshotDir), and checks it is a PNG of
// that width.
func TestScreenshots(t *testing.T) {
	dir := screenshotDir(t)
	var shots []browserPage
	for _, pg := range browserPages {
		if pg.shot {
			shots = append(shots, pg)
		}
	}
	sites := a11ySites(t, shots)
	// A shop name a reader of the README can read (the test shop's is
	// its ID).
	for _, s := range sites {
		require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.ThisShop().Rename(ctx, "Acme Bikes")
			return err
		}))
	}
	tab := a11yBrowser(t)
	// No scrollbar: it would take its width off a page taller than the
	// window, as on a phone it takes none.
	_, err := chromedp.Run(tab, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true})
	})
	require.NoError(t, err)
	for _, pg := range shots {
		t.Run(pg.name, func(t *testing.T) {
			ctx, s := a11yPageBound(t, tab), sites[pg.on]
			for _, width := range screenshotWidths {
				require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)))
				s.open(t, ctx, pg)
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				require.NoError(t, err, "screenshot of %s at %d px", pg.name, width)
				cfg, err := png.DecodeConfig(bytes.NewReader(shot))
				require.NoError(t, err, "a PNG")
				require.Equal(t, int(width), cfg.Width, "%s at %d px", pg.name, width)
				require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", pg.name, width)), shot, 0o644))
			}
		})
	}
}
