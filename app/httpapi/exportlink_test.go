package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

type exportStatus struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Expired   bool       `json:"expired"`
	URL       string     `json:"url"`
	Token     string     `json:"token"`
	ExpiresAt *time.Time `json:"expires_at"`
	Bytes     int64      `json:"bytes"`
}

// TestExportDeliveredBySignedLink is LIFE-1's delivery: an Owner asks for
// an export (a Tech is refused), a background job writes the archive into
// the object store under the shop's prefix, the status answers a signed
// link expiring in 24 hours, and the link downloads an archive that
// verifies offline — without a session. Another shop's link, the link on
// another shop's host, an altered link (a flipped byte, a pushed-out
// expiry) and an expired link are all the same 404; housekeeping then
// deletes the expired archive. The token never reaches the logs. On
// SQLite and on Postgres (application role, RLS on).
func TestExportDeliveredBySignedLink(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { exportDeliveredBySignedLink(t) })
	t.Run("postgres", func(t *testing.T) { exportDeliveredBySignedLink(t, rowsOnPostgres()) })
}

func exportDeliveredBySignedLink(t *testing.T, opts ...fileOption) {
	ctx := context.Background()
	var km *localkms.Manager
	h := newFileHarness(t, append(opts, encrypted(&km))...)
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
	d, err := export.NewDelivery(export.DeliveryDeps{Exporter: x, Store: h.raw, Objects: h.objects, LinkKeys: [][]byte{noise(32)},
		Clock: h.clock, TempDir: t.TempDir()}, export.DeliveryConfig{})
	require.NoError(t, err)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	h.handler = httpapi.NewHandler(httpapi.Deps{Logger: zapTo(h.harness.canary), Auth: &httpapi.AuthDeps{Service: h.harness.svc, Shops: shops},
		Files: &httpapi.FilesDeps{Service: h.storage},
		Audit: &httpapi.AuditDeps{Reader: audit.NewReader(audit.ReaderDeps{Store: h.raw, Clock: h.clock}), Exporter: x, Delivery: d}})
	runner, err := jobs.New(jobs.Deps{Store: h.raw, Queue: h.raw.(ports.JobQueue), Clock: h.clock}, jobs.Config{})
	require.NoError(t, err)
	runner.HandleOutside(export.JobKind, d.RunJob)

	requestExport := func(host, cookie string) (int, exportStatus) {
		t.Helper()
		res := h.do(request{method: http.MethodPost, target: "/exports", host: host, cookie: cookie, contentType: "application/json", body: []byte(`{}`)})
		var st exportStatus
		raw := readBody(t, res)
		if res.StatusCode == http.StatusAccepted {
			require.NoError(t, json.Unmarshal([]byte(raw), &st), raw)
		}
		return res.StatusCode, st
	}
	status := func(host, cookie, id string) exportStatus {
		t.Helper()
		res := h.do(request{method: http.MethodGet, target: "/exports/" + id, host: host, cookie: cookie})
		raw := readBody(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, raw)
		var st exportStatus
		require.NoError(t, json.Unmarshal([]byte(raw), &st), raw)
		return st
	}
	download := func(host, token string) (*http.Response, []byte) {
		t.Helper()
		res := h.do(request{method: http.MethodGet, target: httpapi.ExportDownloadPath + "?token=" + url.QueryEscape(token), host: host})
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, b
	}
	runJobs := func() {
		t.Helper()
		for {
			n, err := runner.RunOnce(ctx)
			require.NoError(t, err)
			if n == 0 {
				return
			}
		}
	}

	code, _ := requestExport("acme.example.test", h.tomCookie)
	require.Equal(t, http.StatusForbidden, code, "a Tech cannot ask for an export")
	code, req := requestExport("acme.example.test", h.annCookie)
	require.Equal(t, http.StatusAccepted, code)
	st := status("acme.example.test", h.annCookie, req.ID)
	assert.Equal(t, string(ports.JobQueued), st.State)
	assert.Empty(t, st.Token, "no link before the archive is written")
	res := h.do(request{method: http.MethodGet, target: "/exports/" + req.ID, cookie: h.tomCookie})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a Tech cannot read the link")

	runJobs()
	st = status("acme.example.test", h.annCookie, req.ID)
	require.Equal(t, string(ports.JobDone), st.State)
	require.NotEmpty(t, st.Token)
	h.harness.canary.Secret("acme's export link", st.Token)
	require.NotNil(t, st.ExpiresAt)
	assert.WithinDuration(t, h.clock.Now().Add(export.DefaultLinkTTL), *st.ExpiresAt, 2*time.Second, "expires in 24 hours")
	jobID, err := ports.ParseJobID(req.ID)
	require.NoError(t, err)
	info, err := h.objects.Stat(ctx, export.ArchiveKey(h.acme.ID, jobID))
	require.NoError(t, err, "the archive is in the object store under the shop's prefix")
	assert.Equal(t, "shops/"+h.acme.ID.String()+"/_exports/"+req.ID+".zip", info.Key)

	res, archive := download("acme.example.test", st.Token)
	require.Equal(t, http.StatusOK, res.StatusCode, string(archive))
	assert.Equal(t, "application/zip", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	assert.Contains(t, res.Header.Get("Cache-Control"), "no-store")
	rep, err := export.Verify(ctx, bytes.NewReader(archive), int64(len(archive)), note.VerifierList(verifier))
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %v", rep.Problems)
	assert.Equal(t, h.acme.ID.String(), rep.Manifest.Shop)
	assert.EqualValues(t, 1, rep.Manifest.Objects)
	assert.Contains(t, string(archive), string(body[:64]), "the encrypted file is in the archive, decrypted")

	// Bolt's export, and every link in the wrong place or altered.
	code, boltReq := requestExport("bolt.example.test", h.annBolt)
	require.Equal(t, http.StatusAccepted, code)
	runJobs()
	boltSt := status("bolt.example.test", h.annBolt, boltReq.ID)
	require.NotEmpty(t, boltSt.Token)
	h.harness.canary.Secret("bolt's export link", boltSt.Token)
	res, _ = download("bolt.example.test", boltSt.Token)
	require.Equal(t, http.StatusOK, res.StatusCode, "bolt's link on bolt's host")
	raw, err := base64.RawURLEncoding.DecodeString(st.Token)
	require.NoError(t, err)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 1
	later := bytes.Clone(raw)
	later[16+7]++ // one second more
	other := bytes.Clone(raw)
	copy(other[:16], jobID.UUID[:])
	other[0] ^= 0x80 // another export ID
	for _, c := range []struct{ what, host, token string }{
		{"acme's link on bolt's host", "bolt.example.test", st.Token},
		{"bolt's link on acme's host", "acme.example.test", boltSt.Token},
		{"a flipped MAC byte", "acme.example.test", base64.RawURLEncoding.EncodeToString(flipped)},
		{"a pushed-out expiry", "acme.example.test", base64.RawURLEncoding.EncodeToString(later)},
		{"another export's ID", "acme.example.test", base64.RawURLEncoding.EncodeToString(other)},
		{"no token", "acme.example.test", ""},
		{"garbage", "acme.example.test", "not-a-link"},
	} {
		res, b := download(c.host, c.token)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, c.what)
		assert.False(t, bytes.HasPrefix(b, []byte("PK")), "%s: no archive in the answer", c.what)
	}
	res = h.do(request{method: http.MethodGet, target: "/exports/" + boltReq.ID, cookie: h.annCookie})
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "bolt's export is not acme's")

	// Expired: refused, no link any more, and housekeeping deletes it.
	h.clock.Advance(export.DefaultLinkTTL)
	res, _ = download("acme.example.test", st.Token)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "an expired link")
	st = status("acme.example.test", h.annCookie, req.ID)
	assert.True(t, st.Expired)
	assert.Empty(t, st.Token)
	sw, err := housekeeping.New(housekeeping.Deps{Store: h.raw, Shops: h.raw.(ports.AuditShopLister), Objects: h.objects, Clock: h.clock}, housekeeping.Config{})
	require.NoError(t, err)
	hk, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, hk.ExportArchives, "both expired archives deleted")
	_, err = h.objects.Stat(ctx, export.ArchiveKey(h.acme.ID, jobID))
	assert.True(t, errors.Is(err, ports.ErrNotFound), "the archive is gone: %v", err)

	var actions []string
	require.NoError(t, h.raw.InShop(ctx, h.acme.ID, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			actions = append(actions, e.Action)
		}
		return err
	}, ports.ReadOnly()))
	assert.Contains(t, actions, export.ActionRequested)
	assert.Contains(t, actions, export.ActionExported)
}
