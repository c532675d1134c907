package localfs

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Handler serves the store's signed URLs: GET downloads (with Range,
// If-None-Match and the like through http.ServeContent) and PUT uploads.
// Mount it so that it receives requests for Options.BaseURL's path, e.g.
// mux.Handle("/objects/", store.Handler()); it reads the key from the full
// request path. Every request must carry a valid, unexpired signature for
// its method, key and options; anything else is refused with 403 before
// the object is looked up, so a refusal says nothing of whether it exists
// (a valid GET of a missing key is 404). Downloads are served with
// nosniff, "Cache-Control: private, no-store" and a sandboxing
// Content-Security-Policy, so an uploaded HTML file cannot run script in
// the serving origin.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if s.base == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPut {
		h.Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), s.base.EscapedPath())
	if !ok {
		http.NotFound(w, r)
		return
	}
	key, err := url.PathUnescape(rest)
	if err != nil || ports.ValidateObjectKey(key) != nil {
		http.Error(w, "bad object key", http.StatusBadRequest)
		return
	}
	sr, err := s.verify(r.Method, key, r.URL.RawQuery)
	if err != nil {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodPut {
		s.servePut(w, r, sr)
		return
	}
	s.serveGet(w, r, sr)
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, sr signedRequest) {
	f, info, err := s.open(sr.key)
	if err != nil {
		writeError(w, mapErr("get", sr.key, err))
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	if sr.opts.ContentType != "" {
		h.Set("Content-Type", sr.opts.ContentType)
	}
	if sr.opts.ContentDisposition != "" {
		h.Set("Content-Disposition", sr.opts.ContentDisposition)
	}
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", `"`+info.ETag+`"`)
	http.ServeContent(w, r, "", info.ModTime, io.NewSectionReader(f, 0, info.Size))
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, sr signedRequest) {
	switch {
	case r.ContentLength < 0:
		http.Error(w, "Content-Length required", http.StatusLengthRequired)
		return
	case r.ContentLength > s.maxUpload:
		http.Error(w, "upload too large", http.StatusRequestEntityTooLarge)
		return
	case sr.opts.ContentLength > 0 && r.ContentLength != sr.opts.ContentLength:
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ct := r.Header.Get("Content-Type")
	if sr.opts.ContentType != "" && ct != sr.opts.ContentType {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	// Put reads exactly ContentLength bytes and fails on a short body, so
	// a client that lies about the length publishes nothing.
	if err := s.Put(r.Context(), sr.key, r.Body, r.ContentLength, ct); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// writeError answers with the status of a port error, without details.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ports.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
	case errors.Is(err, ports.ErrInvalid):
		http.Error(w, "bad request", http.StatusBadRequest)
	case errors.Is(err, ports.ErrForbidden):
		http.Error(w, "forbidden", http.StatusForbidden)
	case errors.Is(err, ports.ErrUnavailable):
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	default:
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}
