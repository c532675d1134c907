package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

// AuditDeps is what the audit routes need. They run on a shop's host with
// the authentication routes' session, so Deps.Auth must be set too.
type AuditDeps struct {
	Reader *audit.Reader
	// Exporter serves POST /export (the whole shop as one archive,
	// LIFE-1); nil leaves the route out.
	Exporter *export.Exporter
	// Delivery serves POST /exports, GET /exports/{job} and the signed
	// download link (the export written by a background job and delivered
	// through an expiring link, LIFE-1); nil leaves them out.
	Delivery *export.Delivery
}

// auditRoutes registers the audit log's reading API (AUD-6), for holders
// of audit.read (Owner and Admin by default), also served under HQ:
//
//	GET /audit?actor=&action=&target=&since=&until=&order=&cursor=&limit=
//	    one page, newest first unless order=oldest:
//	    {"events":[…],"next_cursor":"…"} (next_cursor absent on the last page)
//	GET /audit/export?format=jsonl|csv&actor=&action=&target=&since=&until=
//	    every matching event, oldest first, as a download; audited before
//	    it starts and after it ends (AUD-3)
//
//	GET /audit/access-review?since=&until=&format=jsonl|csv
//	    every access from outside the shop's membership (LIFE-4), oldest
//	    first, each naming its audit event (audit.AccessEntry)
//	POST /export
//	    the whole shop as one verifiable ZIP archive (LIFE-1), for holders
//	    of shop.export (Owner), not under HQ access or impersonation;
//	    audited before it starts (AUD-3)
//
// action is exact ("member.role_changed") or a prefix ending in ".*";
// since and until are RFC 3339 times, since inclusive, until exclusive.
func auditRoutes(rt *router, d AuditDeps) {
	h := &auditHandlers{reader: d.Reader, exporter: d.Exporter}
	rt.member("GET", "/audit", access.AuditRead, true, h.search)
	rt.member("GET", "/audit/export", access.AuditRead, true, rt.stream(http.HandlerFunc(h.export)))
	rt.member("GET", "/audit/access-review", access.AuditRead, true, rt.stream(http.HandlerFunc(h.accessReview)))
	if d.Exporter != nil {
		rt.member("POST", "/export", access.ShopExport, false, rt.stream(http.HandlerFunc(h.shopExport)))
	}
	if d.Delivery != nil {
		exportRoutes(rt, d.Delivery)
	}
}

type auditHandlers struct {
	reader   *audit.Reader
	exporter *export.Exporter
}

// accessReview answers the access review as a download.
func (h *auditHandlers) accessReview(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = audit.FormatJSONLines
	}
	lw := &lazyHeaders{w: w, format: format, name: "access-review"}
	aw, err := audit.NewAccessWriter(format, lw)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if _, err := h.reader.AccessReview(r.Context(), f.Since, f.Until, aw.Write); err != nil {
		if !lw.started {
			WriteProblem(w, r, err)
		}
		return
	}
	if err := aw.Close(); err == nil && !lw.started {
		lw.Write(nil) // an empty JSON Lines review is still a 200
	}
}

// shopExport streams the shop's archive. Refusals before the first byte
// (no permission, the audit-first append failed) are problem answers; a
// failure after it ends the body early, without the signed manifest, and
// the export's outcome event records it.
func (h *auditHandlers) shopExport(w http.ResponseWriter, r *http.Request) {
	lw := &lazyHeaders{w: w, format: "zip", name: "shop-export"}
	if _, err := h.exporter.Export(r.Context(), lw, export.Options{}); err != nil && !lw.started {
		WriteProblem(w, r, err)
	}
}

// auditFilter reads the filter query parameters shared by both routes.
func auditFilter(r *http.Request) (ports.AuditFilter, error) {
	q := r.URL.Query()
	f := ports.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, ports.Invalid(name, "must be an RFC 3339 time, e.g. 2026-11-23T09:00:00Z")
			}
			*dst = t
		}
	}
	return f, f.Validate()
}

func (h *auditHandlers) search(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	q := r.URL.Query()
	switch q.Get("order") {
	case "", "newest":
		f.Newest = true
	case "oldest":
	default:
		WriteProblem(w, r, ports.Invalid("order", `must be "newest" or "oldest"`))
		return
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			WriteProblem(w, r, ports.Invalid("cursor", "must be a cursor from a previous page"))
			return
		}
		f.Cursor = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteProblem(w, r, ports.Invalid("limit", "must be 1 to 1000"))
			return
		}
		f.Limit = n
	}
	page, err := h.reader.Search(r.Context(), f)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := struct {
		Events []audit.Record `json:"events"`
		Next   string         `json:"next_cursor,omitempty"`
	}{Events: make([]audit.Record, len(page.Events))}
	for i, e := range page.Events {
		out.Events[i] = audit.RecordOf(e)
	}
	if page.Next != 0 {
		out.Next = strconv.FormatInt(page.Next, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, out)
}

func (h *auditHandlers) export(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = audit.FormatJSONLines
	}
	// The encoder writes through lazyHeaders, which sets the download's
	// headers on the first byte: an export refused before it starts (no
	// permission, the audit-first append failed) is still a problem answer.
	lw := &lazyHeaders{w: w, format: format, name: "audit"}
	enc, err := audit.NewEncoder(format, lw)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if _, err := h.reader.Export(r.Context(), f, enc); err != nil && !lw.started {
		WriteProblem(w, r, err)
	}
	// An error after the first byte cannot change the status any more; the
	// export's outcome event records it and the body ends early.
}

// lazyHeaders sets an export's download headers when its first byte is
// written.
type lazyHeaders struct {
	w       http.ResponseWriter
	format  string
	name    string // the download's file name without extension
	started bool
}

func (l *lazyHeaders) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		ctype, ext := "application/jsonl; charset=utf-8", "jsonl"
		switch l.format {
		case audit.FormatCSV:
			ctype, ext = "text/csv; charset=utf-8", "csv"
		case "zip":
			ctype, ext = "application/zip", "zip"
		}
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", `attachment; filename="`+l.name+`.`+ext+`"`)
		h.Set("Cache-Control", "no-store")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}
