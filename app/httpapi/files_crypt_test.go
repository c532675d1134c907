package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// encrypted makes every shop's files envelope encrypted under a real
// local key manager, returned through km.
func encrypted(km **localkms.Manager) fileOption {
	return func(o *fileOptions) {
		o.encrypt = func(ports.ShopID) bool { return true }
		o.keysFn = func(t testing.TB, _ ports.Store) storage.KeyWrapper {
			m, err := localkms.New(t.TempDir(), [][]byte{noise(32)})
			require.NoError(t, err)
			*km = m
			return m
		}
	}
}

// TestEncryptedFilesRoundTrip: acceptance 3 of issue 7 — byte-for-byte
// round trips from 0 bytes to 64 MiB, ciphertext at rest, and
// crypto-shredding, on localfs and MinIO.
func TestEncryptedFilesRoundTrip(t *testing.T) {
	onBothObjectStores(t, func(t *testing.T, opts ...fileOption) {
		var km *localkms.Manager
		h := newFileHarness(t, append(opts, encrypted(&km))...)
		var ids []string
		for _, n := range []int{0, 1, 4095, 4096, 4097, 1 << 20, 64 << 20} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				body := noise(n)
				f := h.uploaded(h.tomCookie, "blob", "data.bin", body)
				require.True(t, f.Encrypted)
				assert.Equal(t, int64(n), f.Size)
				assert.Equal(t, sha256Hex(body), f.SHA256)

				key := storage.ObjectKey(h.acme.ID, "blob", mustFileID(t, f.ID))
				rc, info, err := h.objects.Get(context.Background(), key, 0, -1)
				require.NoError(t, err)
				atRest, err := io.ReadAll(rc)
				rc.Close()
				require.NoError(t, err)
				assert.Equal(t, storage.CiphertextSize(int64(n)), info.Size, "the object is the ciphertext")
				// A window under 16 random bytes turns up in random
				// ciphertext by chance (one byte: ~20% of the time), so the
				// containment check starts at 16; smaller bodies are covered
				// by the size check above.
				if n >= 16 {
					assert.False(t, bytes.Contains(atRest, body[:min(n, 64)]), "the plaintext is not at rest")
				}

				u, res := h.downloadURL(h.valCookie, "", f.ID)
				require.NotEmpty(t, u, "status %d", res.StatusCode)
				require.Contains(t, u, "https://acme.example.test/files/"+f.ID+"/content?", "the server's own link on the shop's host")
				got, b := h.fetch(u)
				require.Equal(t, http.StatusOK, got.StatusCode, string(b[:min(len(b), 300)]))
				assert.Equal(t, sha256.Sum256(body), sha256.Sum256(b), "byte for byte")
				assert.Equal(t, n, len(b))
				assert.Equal(t, "nosniff", got.Header.Get("X-Content-Type-Options"))
				assert.Equal(t, "private, no-store", got.Header.Get("Cache-Control"))
				assert.Equal(t, "application/octet-stream", got.Header.Get("Content-Type"))
				assert.Contains(t, got.Header.Get("Content-Disposition"), "attachment")
				ids = append(ids, f.ID)
			})
		}

		t.Run("ContentLinkAttacks", func(t *testing.T) {
			f := h.uploaded(h.tomCookie, "photo", "p.png", pngBytes(5000))
			u, _ := h.downloadURL(h.tomCookie, "", f.ID)
			other := h.uploaded(h.tomCookie, "photo", "q.png", pngBytes(5000))
			parsed, err := url.Parse(u)
			require.NoError(t, err)
			q := parsed.Query()
			exp := q.Get("exp")
			q.Set("exp", exp+"0")
			longer := "/files/" + f.ID + "/content?" + q.Encode()
			for _, bad := range []request{
				{target: "/files/" + other.ID + "/content?" + parsed.RawQuery},                        // another file
				{target: "/files/" + f.ID + "/content?" + parsed.RawQuery, host: "bolt.example.test"}, // another shop's host
				{target: tamperSignature(t, u)},
				{target: longer}, // a later expiry
				{target: "/files/" + f.ID + "/content"},
			} {
				bad.method = http.MethodGet
				res := h.do(bad)
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s on %s: %s", bad.target, bad.host, readBody(t, res))
			}
			h.clock.Advance(storage.DownloadURLExpiry)
			res, _ := h.fetch(u)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, "expired")
		})

		t.Run("CryptoShredding", func(t *testing.T) {
			f := h.uploaded(h.tomCookie, "blob", "secret.bin", noise(10_000))
			require.NoError(t, km.DestroyKeys(context.Background(), h.acme.ID))
			for _, id := range append(ids, f.ID) {
				u, _ := h.downloadURL(h.valCookie, "", id)
				res := h.do(request{method: http.MethodGet, target: u})
				p := problemOf(t, res, http.StatusNotFound)
				assert.Contains(t, p.Detail, "key destroyed", "a clear error")
			}
		})
	})
}

// TestEncryptedShopRefusesSignedPut: a signed PUT would store plaintext.
func TestEncryptedShopRefusesSignedPut(t *testing.T) {
	var km *localkms.Manager
	h := newFileHarness(t, encrypted(&km))
	res := h.do(request{method: http.MethodPost, target: "/files/uploads", cookie: h.tomCookie, contentType: "application/json",
		body: []byte(`{"kind":"photo","name":"a.png","size":10,"content_type":"image/png"}`)})
	problemOf(t, res, http.StatusBadRequest)
	h.requireNothingLeft("refused signed upload")
	// An encrypted upload that lies about its size leaves nothing either.
	res = h.upload(h.tomCookie, "blob", "x", noise(5000), func(r *request) { r.contentLength = 9000 })
	problemOf(t, res, http.StatusBadRequest)
	res = h.upload(h.tomCookie, "blob", "x", noise(9000), func(r *request) { r.contentLength = 5000 })
	problemOf(t, res, http.StatusBadRequest)
	h.requireNothingLeft("lying encrypted upload")
}

func mustFileID(t testing.TB, s string) ports.FileID {
	t.Helper()
	id, err := ports.ParseFileID(s)
	require.NoError(t, err)
	return id
}
