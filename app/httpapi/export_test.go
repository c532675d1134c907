package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
)

// TestShopExportRoute: POST /export streams the Owner's shop as an
// archive that verifies offline with the public key, encrypted files
// decrypted; a Tech is refused; the access review route lists the export
// for an Owner and refuses a Tech.
func TestShopExportRoute(t *testing.T) {
	var km *localkms.Manager
	h := newFileHarness(t, encrypted(&km))
	body := noise(10000)
	f := h.uploaded(h.tomCookie, "blob", "data.bin", body)
	require.True(t, f.Encrypted)

	skey, vkey, err := note.GenerateKey(rand.Reader, "test-audit")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	verifier, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	x, err := export.New(export.Deps{Store: h.raw, Files: h.storage, Signer: signer, Verifiers: note.VerifierList(verifier), Clock: h.clock})
	require.NoError(t, err)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	h.handler = httpapi.NewHandler(httpapi.Deps{Logger: zapTo(h.harness.canary), Auth: &httpapi.AuthDeps{Service: h.harness.svc, Shops: shops},
		Files: &httpapi.FilesDeps{Service: h.storage},
		Audit: &httpapi.AuditDeps{Reader: audit.NewReader(audit.ReaderDeps{Store: h.raw, Clock: h.clock}), Exporter: x}})

	res := h.do(request{method: http.MethodPost, target: "/export", cookie: h.tomCookie})
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a Tech cannot export the shop")

	res = h.do(request{method: http.MethodPost, target: "/export", cookie: h.annCookie})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/zip", res.Header.Get("Content-Type"))
	archive, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	rep, err := export.Verify(context.Background(), bytes.NewReader(archive), int64(len(archive)), note.VerifierList(verifier))
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %v", rep.Problems)
	require.EqualValues(t, 1, rep.Manifest.Objects)
	require.Contains(t, string(archive), string(body[:64]), "the encrypted file is exported decrypted (stored, not deflated)")

	res = h.do(request{method: http.MethodGet, target: "/audit/access-review?format=csv", cookie: h.annCookie})
	require.Equal(t, http.StatusOK, res.StatusCode)
	review, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Contains(t, string(review), export.ActionExported)
	require.True(t, strings.HasPrefix(string(review), "seq,event_id,hash,"))
	res = h.do(request{method: http.MethodGet, target: "/audit/access-review", cookie: h.tomCookie})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}
