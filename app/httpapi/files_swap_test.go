package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileSignedUploadCannotBeSwapped is issue 16 item 7 (STO-3) as the
// attacker ran it: a tech uploads a PNG through a signed PUT URL and
// finalizes it (size, SHA-256 and type checked), then PUTs HTML of the
// same length, declared image/png as the URL demands, through the same
// URL, which stays valid for 15 minutes. The served file must stay the
// checked one. After an owner deletes the file, another PUT must not
// bring it back.
func TestFileSignedUploadCannotBeSwapped(t *testing.T) {
	onBothObjectStores(t, func(t *testing.T, opts ...fileOption) {
		h := newFileHarness(t, opts...)
		good := pngBytes(4096)
		evil := []byte("<html><script>alert(document.cookie)</script>")
		evil = append(evil, bytes.Repeat([]byte(" "), len(good)-len(evil))...)

		id, u := h.requestUpload(h.tomCookie, "photo", "site.png", "image/png", len(good))
		h.put(u, "image/png", good, http.StatusOK)
		res := h.finalize(h.tomCookie, id, sha256Hex(good))
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))

		// The swap: the URL is still valid, and the store may accept the
		// bytes (into a staging key), but the file must not change.
		h.putAny(u, "image/png", evil)
		dl, res := h.downloadURL(h.valCookie, "", id)
		require.NotEmpty(t, dl, "download URL: %d", res.StatusCode)
		got, body := h.fetch(dl)
		require.Equal(t, http.StatusOK, got.StatusCode, string(body))
		assert.True(t, bytes.Equal(good, body), "the served file is the checked one, not the bytes PUT after finalize")
		problemOf(t, h.finalize(h.tomCookie, id, sha256Hex(evil)), http.StatusConflict)

		// The owner deletes it; a PUT through the old URL does not
		// recreate it.
		res = h.do(request{method: http.MethodDelete, target: "/files/" + id, cookie: h.annCookie})
		require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
		h.putAny(u, "image/png", evil)
		_, res = h.downloadURL(h.annCookie, "", id)
		problemOf(t, res, http.StatusNotFound)
		problemOf(t, h.finalize(h.tomCookie, id, sha256Hex(evil)), http.StatusNotFound)
		for _, k := range h.objectKeys() {
			assert.True(t, strings.HasPrefix(k, "shops/"+h.acme.ID.String()+"/_staging/"),
				"after delete only an unpromotable staging object may exist, got %q", k)
		}
		require.Zero(t, h.countRows("files"), "no file row after delete")
	})
}

// putAny sends body to a signed PUT URL and returns without checking the
// answer: an attacker's PUT that the store may accept or refuse.
func (h *fileHarness) putAny(u, ct string, body []byte) {
	h.t.Helper()
	if strings.HasPrefix(u, "https://") {
		res := h.do(request{method: http.MethodPut, target: u, contentType: ct, body: body})
		_ = readBody(h.t, res)
		return
	}
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodPut, u, bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	_ = readBody(h.t, res)
}
