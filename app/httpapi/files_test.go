package httpapi_test

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/storage"
)

// onBothObjectStores runs fn on SQLite rows with localfs objects, SQLite
// with MinIO, and Postgres (application role, RLS on) with MinIO, in
// parallel subtests.
func onBothObjectStores(t *testing.T, fn func(t *testing.T, opts ...fileOption)) {
	t.Helper()
	t.Run("localfs", func(t *testing.T) { t.Parallel(); fn(t) })
	t.Run("minio", func(t *testing.T) { t.Parallel(); fn(t, onMinIO()) })
	t.Run("postgres+minio", func(t *testing.T) { t.Parallel(); fn(t, onMinIO(), rowsOnPostgres()) })
}

func TestFileUploadListDownloadDelete(t *testing.T) {
	onBothObjectStores(t, func(t *testing.T, opts ...fileOption) {
		h := newFileHarness(t, opts...)
		body := pngBytes(70_000)
		f := h.uploaded(h.tomCookie, "photo", "../Küche – vorher.png", body)
		assert.Equal(t, "image/png", f.ContentType, "the sniffed type")
		assert.Equal(t, "Küche – vorher.png", f.Name, "the path is dropped from the name")
		assert.Equal(t, int64(len(body)), f.Size)
		assert.Equal(t, sha256Hex(body), f.SHA256)
		assert.Equal(t, "ready", f.State)
		assert.Equal(t, []string{"shops/" + h.acme.ID.String() + "/photo/" + f.ID}, h.objectKeys(), "the core named the key")
		require.Len(t, h.events(h.acme, "file.uploaded"), 1)

		res := h.do(request{method: http.MethodGet, target: "/files?kind=photo", cookie: h.valCookie})
		require.Equal(t, http.StatusOK, res.StatusCode)
		var list struct {
			Files []fileBody `json:"files"`
		}
		decodeBody(t, res, &list)
		require.Len(t, list.Files, 1, "a viewer lists the shop's files")
		assert.Equal(t, f, list.Files[0])

		u, res := h.downloadURL(h.valCookie, "", f.ID)
		require.NotEmpty(t, u, "a viewer may download: %d", res.StatusCode)
		got, b := h.fetch(u)
		require.Equal(t, http.StatusOK, got.StatusCode, string(b))
		assert.Equal(t, body, b, "byte for byte")
		assert.Equal(t, "image/png", got.Header.Get("Content-Type"))
		_, params, err := mime.ParseMediaType(got.Header.Get("Content-Disposition"))
		require.NoError(t, err)
		assert.Equal(t, "Küche – vorher.png", params["filename"], "RFC 5987 name")

		res = h.do(request{method: http.MethodGet, target: "/files/" + f.ID + "/download?redirect=1", cookie: h.valCookie})
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.True(t, strings.HasPrefix(res.Header.Get("Location"), strings.Split(u, "?")[0]))

		res = h.do(request{method: http.MethodDelete, target: "/files/" + f.ID, cookie: h.tomCookie})
		problemOf(t, res, http.StatusForbidden) // a tech may not delete
		res = h.do(request{method: http.MethodDelete, target: "/files/" + f.ID, cookie: h.annCookie})
		require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
		h.requireNothingLeft("after delete")
		require.Len(t, h.events(h.acme, "file.deleted"), 1)
		_, res = h.downloadURL(h.annCookie, "", f.ID)
		problemOf(t, res, http.StatusNotFound)
	})
}

// TestFileAttacks: acceptance 2 of issue 7, on localfs and MinIO.
func TestFileAttacks(t *testing.T) {
	onBothObjectStores(t, func(t *testing.T, opts ...fileOption) {
		h := newFileHarness(t, opts...)

		t.Run("AnotherShopsFileThroughThisShopsHost", func(t *testing.T) {
			boltFile := h.uploaded(h.annBolt, "document", "bolt.pdf", pdfBytes(2000), onHost("bolt.example.test"))
			// Ann owns both shops, so only the host keeps them apart.
			for _, rq := range []request{
				{method: http.MethodGet, target: "/files/" + boltFile.ID + "/download"},
				{method: http.MethodDelete, target: "/files/" + boltFile.ID},
				{method: http.MethodPost, target: "/files/" + boltFile.ID + "/finalize", contentType: "application/json",
					body: []byte(`{"sha256":"` + strings.Repeat("0", 64) + `"}`)},
			} {
				rq.cookie = h.annCookie
				problemOf(t, h.do(rq), http.StatusNotFound)
			}
			res := h.do(request{method: http.MethodGet, target: "/files/" + boltFile.ID + "/download", cookie: h.annCookie, host: "bolt.example.test"})
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "acme's cookie does not work on bolt's host")
			u, _ := h.downloadURL(h.annBolt, "bolt.example.test", boltFile.ID)
			require.NotEmpty(t, u, "the file is intact in bolt")
			res = h.do(request{method: http.MethodDelete, target: "/files/" + boltFile.ID, cookie: h.annBolt, host: "bolt.example.test"})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
		})

		t.Run("TamperedOrExpiredSignedURL", func(t *testing.T) {
			f := h.uploaded(h.tomCookie, "photo", "a.png", pngBytes(3000))
			u, _ := h.downloadURL(h.tomCookie, "", f.ID)
			other := h.uploaded(h.tomCookie, "photo", "b.png", pngBytes(3000))
			tampered := []string{
				strings.Replace(u, f.ID, other.ID, 1),                                           // another object, same signature
				strings.Replace(u, "attachment", "inline", 1),                                   // altered disposition
				strings.Replace(u, "image%2Fpng", "text%2Fhtml", 1),                             // altered content type
				tamperSignature(t, u),                                                           // altered signature
				strings.Replace(u, "shops/"+h.acme.ID.String(), "shops/"+h.bolt.ID.String(), 1), // another shop's prefix
			}
			for i, bad := range tampered {
				require.NotEqual(t, u, bad, "case %d changes the URL", i)
				res, _ := h.fetch(bad)
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "case %d: %s", i, bad)
			}
			if h.local != nil {
				// MinIO checks expiry by its own clock, which the test
				// cannot move; the s3 adapter's suite covers it.
				h.clock.Advance(storage.DownloadURLExpiry + time.Second)
				res, _ := h.fetch(u)
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "expired")
			}
			for _, id := range []string{f.ID, other.ID} {
				require.Equal(t, http.StatusNoContent, h.do(request{method: http.MethodDelete, target: "/files/" + id, cookie: h.annCookie}).StatusCode)
			}
		})

		t.Run("UploadsThatLie", func(t *testing.T) {
			html := []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")
			tests := []struct {
				name   string
				kind   string
				body   []byte
				mod    func(*request)
				status int
			}{
				{"body shorter than Content-Length", "photo", pngBytes(4000), func(r *request) { r.contentLength = 5000 }, http.StatusBadRequest},
				{"body longer than Content-Length", "photo", pngBytes(4000), func(r *request) { r.contentLength = 3000 }, http.StatusBadRequest},
				{"body shorter than the sniff window", "photo", pngBytes(100), func(r *request) { r.contentLength = 4000 }, http.StatusBadRequest},
				{"no Content-Length", "photo", pngBytes(100), func(r *request) { r.contentLength = -1 }, http.StatusBadRequest},
				{"over the kind's limit", "photo", pngBytes(100), func(r *request) { r.contentLength = 26 << 20 }, http.StatusBadRequest},
				{"PNG as a document", "document", pngBytes(4000), nil, http.StatusBadRequest},
				{"PNG declared as PDF", "certificate", pngBytes(4000), func(r *request) { r.contentType = "application/pdf" }, http.StatusBadRequest},
				{"HTML as a photo", "photo", html, nil, http.StatusBadRequest},
				{"HTML declared as JPEG", "photo", html, func(r *request) { r.contentType = "image/jpeg" }, http.StatusBadRequest},
				{"unknown kind", "script", pngBytes(100), nil, http.StatusBadRequest},
				{"kind that is a path", "../photo", pngBytes(100), nil, http.StatusBadRequest},
				{"viewer", "photo", pngBytes(4000), func(r *request) { r.cookie = h.valCookie }, http.StatusForbidden},
				{"no session", "photo", pngBytes(4000), func(r *request) { r.cookie = "" }, http.StatusUnauthorized},
				{"cross-origin", "photo", pngBytes(4000), func(r *request) { r.header = http.Header{"Sec-Fetch-Site": {"cross-site"}} }, http.StatusForbidden},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mods := []func(*request){}
					if tt.mod != nil {
						mods = append(mods, tt.mod)
					}
					res := h.upload(h.tomCookie, tt.kind, "x.png", tt.body, mods...)
					problemOf(t, res, tt.status)
					h.requireNothingLeft(tt.name)
				})
			}
		})

		t.Run("SignedPutThatLies", func(t *testing.T) {
			tests := []struct {
				name    string
				kind    string
				ct      string
				declare int
				body    []byte
				sha     func(body []byte) string
			}{
				{"PNG sent as PDF", "document", "application/pdf", 4000, pngBytes(4000), sha256Hex},
				{"wrong checksum", "document", "application/pdf", 4000, pdfBytes(4000), func([]byte) string { return strings.Repeat("ab", 32) }},
				{"HTML as PNG", "photo", "image/png", 60, []byte(strings.Repeat("<html>", 10)), sha256Hex},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					id, u := h.requestUpload(h.tomCookie, tt.kind, "x", tt.ct, tt.declare)
					h.put(u, tt.ct, tt.body, http.StatusOK)
					res := h.finalize(h.tomCookie, id, tt.sha(tt.body))
					problemOf(t, res, http.StatusBadRequest)
					h.requireNothingLeft(tt.name)
				})
			}
			id, u := h.requestUpload(h.tomCookie, "document", "x.pdf", "application/pdf", 4000)
			h.put(u, "application/pdf", pdfBytes(3999), http.StatusForbidden) // the URL is for exactly 4000 bytes
			h.put(u, "image/png", pdfBytes(4000), http.StatusForbidden)       // and for the declared type only
			problemOf(t, h.finalize(h.tomCookie, id, strings.Repeat("00", 32)), http.StatusConflict)
			problemOf(t, h.finalize(h.valCookie, id, strings.Repeat("00", 32)), http.StatusForbidden)
			require.Empty(t, h.objectKeys(), "refused PUTs wrote nothing")
			res := h.do(request{method: http.MethodPost, target: "/files/uploads", cookie: h.valCookie, contentType: "application/json",
				body: []byte(`{"kind":"photo","name":"a.png","size":10,"content_type":"image/png"}`)})
			problemOf(t, res, http.StatusForbidden)
		})
	})
}

func TestFileSignedUploadAndFinalize(t *testing.T) {
	onBothObjectStores(t, func(t *testing.T, opts ...fileOption) {
		h := newFileHarness(t, opts...)
		body := pdfBytes(100_000)
		id, u := h.requestUpload(h.tomCookie, "document", "Offer 42.pdf", "application/pdf", len(body))
		_, res := h.downloadURL(h.tomCookie, "", id)
		problemOf(t, res, http.StatusNotFound) // pending files are not offered
		h.put(u, "application/pdf", body, http.StatusOK)
		res = h.finalize(h.annCookie, id, sha256Hex(body))
		problemOf(t, res, http.StatusForbidden) // only the uploader finalizes
		res = h.finalize(h.tomCookie, id, sha256Hex(body))
		raw := readBody(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, raw)
		var f fileBody
		require.NoError(t, json.Unmarshal([]byte(raw), &f))
		assert.Equal(t, "ready", f.State)
		assert.Equal(t, sha256Hex(body), f.SHA256)
		problemOf(t, h.finalize(h.tomCookie, id, sha256Hex(body)), http.StatusConflict)
		u, _ = h.downloadURL(h.tomCookie, "", id)
		_, got := h.fetch(u)
		assert.Equal(t, body, got)
		require.Len(t, h.events(h.acme, "file.uploaded"), 1)
	})
}

func (h *fileHarness) requestUpload(cookie, kind, name, ct string, size int) (id, uploadURL string) {
	h.t.Helper()
	b, _ := json.Marshal(map[string]any{"kind": kind, "name": name, "size": size, "content_type": ct})
	res := h.do(request{method: http.MethodPost, target: "/files/uploads", cookie: cookie, contentType: "application/json", body: b})
	raw := readBody(h.t, res)
	require.Equal(h.t, http.StatusCreated, res.StatusCode, raw)
	var out struct {
		FileID    string `json:"file_id"`
		UploadURL string `json:"upload_url"`
	}
	require.NoError(h.t, json.Unmarshal([]byte(raw), &out))
	return out.FileID, out.UploadURL
}

// put sends body to a signed PUT URL and requires status.
func (h *fileHarness) put(u, ct string, body []byte, status int) {
	h.t.Helper()
	if strings.HasPrefix(u, "https://") {
		res := h.do(request{method: http.MethodPut, target: u, contentType: ct, body: body})
		require.Equal(h.t, status, res.StatusCode, readBody(h.t, res))
		return
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, u, strings.NewReader(string(body)))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	if status == http.StatusForbidden {
		// S3 answers a signature mismatch 403; MinIO may also refuse a
		// short body with 400.
		require.Contains(h.t, []int{http.StatusForbidden, http.StatusBadRequest}, res.StatusCode, readBody(h.t, res))
		return
	}
	require.Equal(h.t, status, res.StatusCode, readBody(h.t, res))
}

func (h *fileHarness) finalize(cookie, id, sum string) *http.Response {
	return h.do(request{method: http.MethodPost, target: "/files/" + id + "/finalize", cookie: cookie, contentType: "application/json",
		body: []byte(`{"sha256":"` + sum + `"}`)})
}

// tamperSignature changes one character of a signed URL's signature
// (localfs "sig", S3 "X-Amz-Signature").
func tamperSignature(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	for _, name := range []string{"sig", "X-Amz-Signature"} {
		if v := q.Get(name); v != "" {
			c := byte('A')
			if v[0] == 'A' {
				c = 'B'
			}
			q.Set(name, string(c)+v[1:])
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	t.Fatalf("no signature in %s", raw)
	return ""
}
