package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

// ExportDownloadPath is the route of an export's signed download link on
// the shop's host; the link's token is its token query parameter.
const ExportDownloadPath = "/exports/download"

// exportRoutes registers the delivered export (LIFE-1) for holders of
// shop.export (Owner), not under HQ access or impersonation:
//
//	POST /exports {"reason"?}
//	    202 {"id"}: the export is written by a background job
//	GET /exports/{job}
//	    {"id","state","expired"?,"url"?,"token"?,"expires_at"?,"bytes"?}:
//	    once the job is done and until the archive expires, the signed
//	    link (url is relative to the shop's host)
//	GET /exports/download?token=…
//	    the archive (application/zip) for whoever holds the link; every
//	    refusal (unknown, altered, another shop's, expired) is the same 404
func exportRoutes(rt *router, d *export.Delivery) {
	h := &exportHandlers{d: d}
	rt.member("POST", "/exports", access.ShopExport, false, h.request).json(exportRequest{})
	rt.member("GET", "/exports/{job}", access.ShopExport, false, h.status)
	rt.signed("GET", ExportDownloadPath, rt.stream(http.HandlerFunc(h.download)))
}

type exportHandlers struct{ d *export.Delivery }

// exportRequest is POST /exports' body.
type exportRequest struct {
	// Reason is recorded in the audit events; optional for an Owner.
	Reason string `json:"reason,omitempty"`
}

type exportStatusAnswer struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Expired   bool       `json:"expired,omitempty"`
	URL       string     `json:"url,omitempty"`
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Bytes     int64      `json:"bytes,omitempty"`
}

func (h *exportHandlers) request(w http.ResponseWriter, r *http.Request) {
	var in exportRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	id, err := h.d.Request(r.Context(), export.Options{Reason: in.Reason})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, exportStatusAnswer{ID: id.String(), State: string(ports.JobQueued)})
}

func (h *exportHandlers) status(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseJobID(r.PathValue("job"))
	if err != nil {
		WriteProblem(w, r, ports.ErrNotFound)
		return
	}
	st, err := h.d.Status(r.Context(), id)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := exportStatusAnswer{ID: st.ID.String(), State: string(st.State), Expired: st.Expired, Bytes: st.Bytes}
	if st.Link != "" {
		out.Token, out.URL = st.Link, ExportDownloadPath+"?token="+st.Link
		out.ExpiresAt = &st.ExpiresAt
	}
	writeJSON(w, "application/json", http.StatusOK, out)
}

// download serves the archive a signed link names. The token is never
// logged: the access log names the route pattern, not the query.
func (h *exportHandlers) download(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Robots-Tag", "noindex")
	body, info, err := h.d.Open(r.Context(), shop.ID, r.URL.Query().Get("token"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	defer body.Close()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", `attachment; filename="`+shop.Slug+`-export.zip"`)
	hd.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = copyChunked(w, body) // cut short: the client sees a short body; the link still works until it expires
}
