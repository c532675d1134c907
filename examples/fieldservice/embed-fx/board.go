package main

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
)

// BoardPath is the app's own HTML page: the jobs board of the shop.
const BoardPath = "/jobs-board"

// boardPage is the jobs board. {{.Banner}} at the top of <body> is the
// impersonation banner (empty for a member's own session); the page
// links Stockade's stylesheet, which styles it.
var boardPage = template.Must(template.New("board").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Jobs board · {{.Shop}}</title>
<link rel="stylesheet" href="` + web.StylesheetPath + `"></head>
<body>{{.Banner}}
<main class="st-main" id="main"><h1 class="fx-board">Jobs board</h1>
<p>Today's jobs in {{.Shop}}. Quotes are created with <code>POST /quotes</code>.</p>
</main></body></html>
`))

// BoardRoute is the jobs board as an app route: behind Stockade's guards
// (shop from the host, session, quotes.read) and web.Impersonation, so
// web.Banner shows the impersonation banner while an operator acts as
// the member (AUD-5).
func BoardRoute(svc *auth.Service, o web.Options) (httpapi.AppRoute, error) {
	banner, err := web.Impersonation(svc, o)
	if err != nil {
		return httpapi.AppRoute{}, fmt.Errorf("jobs board: %w", err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shop, _ := httpapi.ShopFrom(r.Context())
		var buf bytes.Buffer
		if err := boardPage.Execute(&buf, map[string]any{"Banner": web.Banner(r), "Shop": shop.Name}); err != nil {
			httpapi.WriteProblem(w, r, fmt.Errorf("render the jobs board: %w", err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", web.CSP)
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	})
	return httpapi.AppRoute{Method: http.MethodGet, Path: BoardPath, Permission: quoting.QuotesRead, Handler: banner(page)}, nil
}
