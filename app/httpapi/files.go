package httpapi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// FilesDeps is what the file routes need. They run on a shop's host with
// the authentication routes' session and CSRF protection, so Deps.Auth
// must be set too.
type FilesDeps struct {
	Service *storage.Service
	// Objects, when set, serves the object store's own signed URLs (the
	// localfs adapter's Handler) under ObjectsPath, e.g. "/objects/", on
	// every host: the URLs carry their own signature and name no shop
	// beyond the key the core built.
	Objects     http.Handler
	ObjectsPath string
}

// filesRoutes registers the file API on mux (STO-1…STO-4):
//
//	POST   /files?kind=photo&name=a.jpg  body = the bytes (Content-Length required) → 201 file
//	POST   /files/uploads                {kind,name,size,content_type} → 201 {file_id, upload_url, expires_at}
//	POST   /files/{file}/finalize          {sha256} (hex) → 200 file
//	GET    /files?kind=&after=&limit=    → 200 {files, next_after}
//	GET    /files/{file}/download          → 200 {url, expires_at}; with ?redirect=1 a 303 to the URL
//	DELETE /files/{file}                   → 204 (owner, admin)
//	GET    /files/{file}/content?exp=&sig= the server's signed link to an encrypted file, decrypted as it streams
//
// All but the content route need a session on the shop's host; the
// content route's signature is its credential, bound to the host's shop.
func filesRoutes(rt *router, a AuthDeps, d FilesDeps) {
	h := &fileHandlers{svc: d.Service, shops: a.Shops, trustXFF: a.TrustForwardedFor}
	rt.member("POST", "/files", access.FilesUpload, true, rt.stream(http.HandlerFunc(h.upload)))
	rt.member("POST", "/files/uploads", access.FilesUpload, true, h.requestUpload).json(uploadRequest{})
	rt.member("POST", "/files/{file}/finalize", access.FilesUpload, true, h.finalize).json(finalizeRequest{})
	rt.member("GET", "/files", access.FilesRead, true, h.list)
	rt.member("GET", "/files/{file}/download", access.FilesRead, true, h.download)
	rt.member("DELETE", "/files/{file}", access.FilesDelete, true, h.delete)
	rt.signed("GET", "/files/{file}/content", rt.stream(http.HandlerFunc(h.content)))
	if d.Objects != nil && d.ObjectsPath != "" {
		// The object store's own signed URLs: not a tenant route (the
		// signature names the key), so not in Routes.
		rt.mux.Handle(d.ObjectsPath, rt.stream(d.Objects))
	}
}

type fileHandlers struct {
	svc      *storage.Service
	shops    *HostShops
	trustXFF bool
}

// fileJSON is a file as the API shows it.
type fileJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256,omitempty"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
	State       string    `json:"state"`
	Encrypted   bool      `json:"encrypted"`
}

func fileOf(f ports.File) fileJSON {
	return fileJSON{
		ID: f.ID.String(), Kind: f.Kind, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
		SHA256: hex.EncodeToString(f.SHA256), UploadedBy: f.UploadedBy.String(), CreatedAt: f.CreatedAt,
		State: string(f.State), Encrypted: f.Encrypted,
	}
}

func (h *fileHandlers) upload(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength < 0 {
		WriteProblem(w, r, ports.Invalid("content-length", "is required: send the file's exact size"))
		return
	}
	q := r.URL.Query()
	f, err := h.svc.Upload(r.Context(), storage.UploadInput{
		Kind: q.Get("kind"), Name: q.Get("name"), Size: r.ContentLength,
		ContentType: r.Header.Get("Content-Type"), Body: shortBody{r.Body},
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, fileOf(f))
}

// shortBody reports a request body that ended before its Content-Length
// (the client hung up) as bad input rather than a server error.
type shortBody struct{ r io.Reader }

func (b shortBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = ports.Invalid("body", "ended before Content-Length bytes")
	}
	return n, err
}

// uploadRequest is the body of POST /files/uploads.
type uploadRequest struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Size        int64  `json:"size" doc:"the file's exact size in bytes"`
	ContentType string `json:"content_type"`
}

func (h *fileHandlers) requestUpload(w http.ResponseWriter, r *http.Request) {
	var in uploadRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	p, err := h.svc.RequestUpload(r.Context(), storage.UploadRequest{Kind: in.Kind, Name: in.Name, Size: in.Size, ContentType: in.ContentType})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, map[string]any{
		"file_id": p.File.ID.String(), "upload_url": p.URL, "expires_at": p.ExpiresAt,
		"method": http.MethodPut, "headers": map[string]string{"Content-Type": p.File.ContentType, "Content-Length": strconv.FormatInt(p.File.Size, 10)},
	})
}

// finalizeRequest is the body of POST /files/{file}/finalize.
type finalizeRequest struct {
	SHA256 string `json:"sha256" doc:"the SHA-256 of the uploaded bytes, 64 hex digits"`
}

func (h *fileHandlers) finalize(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseFileID(r.PathValue("file"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var in finalizeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	sum, err := hex.DecodeString(in.SHA256)
	if err != nil || len(sum) != 32 {
		WriteProblem(w, r, ports.Invalid("sha256", "must be 64 hex digits"))
		return
	}
	f, err := h.svc.Finalize(r.Context(), id, sum)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, fileOf(f))
}

func (h *fileHandlers) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := storage.ListQuery{Kind: q.Get("kind")}
	if v := q.Get("after"); v != "" {
		id, err := ports.ParseFileID(v)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		lq.After = id
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ports.MaxFilePageSize {
			WriteProblem(w, r, ports.Invalid("limit", fmt.Sprintf("must be a number from 1 to %d", ports.MaxFilePageSize)))
			return
		}
		lq.Limit = n
	}
	files, err := h.svc.List(r.Context(), lq)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := struct {
		Files     []fileJSON `json:"files"`
		NextAfter string     `json:"next_after,omitempty"`
	}{Files: make([]fileJSON, len(files))}
	for i, f := range files {
		out.Files[i] = fileOf(f)
	}
	if len(files) > 0 && len(files) == (ports.FileQuery{Limit: lq.Limit}).PageLimit() {
		out.NextAfter = files[len(files)-1].ID.String()
	}
	writeJSON(w, "application/json", http.StatusOK, out)
}

func (h *fileHandlers) download(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseFileID(r.PathValue("file"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	d, err := h.svc.DownloadURL(r.Context(), id)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	u := d.URL
	if d.ContentQuery != "" {
		shop, _ := ShopFrom(r.Context())
		u = h.shops.URL(shop.Slug, "/files/"+id.String()+"/content") + "?" + d.ContentQuery
	}
	if r.URL.Query().Get("redirect") == "1" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"url": u, "expires_at": d.ExpiresAt})
}

func (h *fileHandlers) delete(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseFileID(r.PathValue("file"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.Delete(r.Context(), id); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// content streams a file through the server's signed link, decrypting it
// on the way. Once the first byte is sent a failure can only cut the
// response short (the client sees fewer than Content-Length bytes).
func (h *fileHandlers) content(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	id, err := ports.ParseFileID(r.PathValue("file"))
	if err != nil {
		WriteProblem(w, r, fmt.Errorf("bad content link: %w", ports.ErrForbidden))
		return
	}
	f, body, err := h.svc.OpenContent(r.Context(), shop.ID, id, r.URL.Query())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	defer body.Close()
	hd := w.Header()
	hd.Set("Content-Type", f.ContentType)
	hd.Set("Content-Disposition", storage.Disposition(f.Name))
	hd.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// Copy in large chunks: the decrypting reader yields 4 KiB at a time,
	// and a write per segment would cost a syscall each.
	if _, err := copyChunked(w, body); err != nil {
		loggerFrom(r.Context()).Warn("file content cut short", zap.String("file", f.ID.String()), zap.Error(err))
	}
}

// copyChunked copies src to dst in 256 KiB writes, filling each chunk from
// as many reads as it takes.
func copyChunked(dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := io.ReadFull(src, buf)
		if k > 0 {
			w, werr := dst.Write(buf[:k])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		switch {
		case err == io.EOF, err == io.ErrUnexpectedEOF:
			return n, nil
		case err != nil:
			return n, err
		}
	}
}
