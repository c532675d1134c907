package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/stockadehq/stockade/app/httpapi"
)

// PublicPage is the record an embedding app shows on a public capability
// page (a route reached with a capability link, httpapi.LinkRoute).
type PublicPage struct {
	// Title is the page's title and heading; it is escaped.
	Title string
	// Body is the record as HTML, inserted as is inside the page's main
	// element: make it with html/template so that the record's text is
	// escaped. No script in it runs and no style attribute applies (the
	// page's CSP, see CSP): style it with classes of the stylesheet.
	Body template.HTML
}

// PublicShell renders public capability pages inside Stockade's layout
// (templates/layout.html with templates/capability.html, the overlay's
// where it has them) with the pages' security headers. It reads no
// session and sets none: the page shows the shop's name but no
// navigation and no impersonation banner, since the holder of a link is
// no member.
type PublicShell struct {
	t *template.Template
}

// NewPublicShell parses the shell's templates from the embedded files
// under o.Overlay; pass the same Options as the pages' (app.Embedding.Web
// or app.WithWeb) so that a restyled layout applies to both. A template
// that does not parse is an error.
func NewPublicShell(o Options) (*PublicShell, error) {
	t, err := template.New("layout.html").Funcs(funcs).
		ParseFS(filesOf(o), "templates/layout.html", "templates/banner.html", "templates/capability.html")
	if err != nil {
		return nil, fmt.Errorf("web: public shell: %w", err)
	}
	return &PublicShell{t: t}, nil
}

// Render writes page with status as a complete HTML page: the layout
// with the shop of r's host (httpapi.OnShopHost, which the link routes
// run behind) and page's title and body. It sets the pages' headers
// (Content-Security-Policy CSP, Referrer-Policy: no-referrer,
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Cache-Control:
// no-store) and X-Robots-Tag: noindex, nofollow, so that a link's page is
// neither cached, framed, indexed nor referred. A template that fails to
// execute is a 500 with a plain message; nothing of the page is written.
func (s *PublicShell) Render(w http.ResponseWriter, r *http.Request, status int, page PublicPage) {
	v := view{Title: page.Title, Data: page}
	if shop, ok := httpapi.ShopFrom(r.Context()); ok {
		v.Shop = shop
	}
	var buf bytes.Buffer
	err := s.t.Execute(&buf, v)
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	if err != nil {
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
