package httpapi_test

// The harness of the file API tests: the authentication harness (real
// SQLite or Postgres, real auth service, manual clock) plus a real object
// store — localfs in a temporary directory, or a bucket on the test MinIO —
// and the storage service over both, behind the real handler.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

type fileHarness struct {
	*harness
	objects ports.ObjectStore
	local   *localfs.Store // nil on MinIO
	storage *storage.Service
	// val is a viewer of acme.
	val                             ports.User
	annCookie, tomCookie, valCookie string
	annBolt                         string // ann's session on bolt
}

type fileOptions struct {
	minio   bool
	rules   map[string]storage.KindRule
	encrypt func(ports.ShopID) bool
	keysFn  func(t testing.TB, st ports.Store) storage.KeyWrapper
	auth    []harnessOption
}

type fileOption func(*fileOptions)

// onMinIO puts objects in a fresh bucket of the test MinIO.
func onMinIO() fileOption { return func(o *fileOptions) { o.minio = true } }

// rowsOnPostgres keeps the rows in a fresh Postgres database (application
// role, RLS on) instead of SQLite.
func rowsOnPostgres() fileOption {
	return func(o *fileOptions) { o.auth = append(o.auth, onPostgres()) }
}

// testRules are the default kinds plus "blob", which takes any content
// (for byte-exact round trips of arbitrary sizes).
func testRules() map[string]storage.KindRule {
	r := storage.DefaultRules()
	r["blob"] = storage.KindRule{MaxSize: 2 << 30, Any: true}
	return r
}

func noise(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newFileHarness(t testing.TB, opts ...fileOption) *fileHarness {
	t.Helper()
	o := fileOptions{rules: testRules()}
	for _, opt := range opts {
		opt(&o)
	}
	h := &fileHarness{harness: newHarness(t, o.auth...)}
	if o.minio {
		m := testinfra.StartMinIO(t)
		st, err := s3.Open(context.Background(), s3.Config{
			Bucket: "files-" + strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36)), Endpoint: m.Endpoint, Region: m.Region,
			PathStyle: true, Insecure: true, CreateBucket: true, AccessKey: m.AccessKey, SecretKey: s3.Secret(m.SecretKey),
		})
		require.NoError(t, err)
		h.objects = st
	} else {
		st, err := localfs.Open(t.TempDir(), localfs.Options{BaseURL: "https://example.test/objects/", SigningKey: noise(32), Clock: h.clock})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		h.objects, h.local = st, st
	}
	var keys storage.KeyWrapper
	if o.keysFn != nil {
		keys = o.keysFn(t, h.raw)
	}
	var err error
	h.storage, err = storage.New(storage.Deps{
		Store: h.raw, Objects: h.objects, Clock: h.clock, Rules: o.rules, ContentKey: noise(32),
		Keys: keys, EncryptShop: o.encrypt,
	})
	require.NoError(t, err)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	files := &httpapi.FilesDeps{Service: h.storage}
	if h.local != nil {
		files.Objects, files.ObjectsPath = h.local.Handler(), "/objects/"
	}
	h.handler = httpapi.NewHandler(httpapi.Deps{Logger: zapTo(h.harness.canary), Auth: &httpapi.AuthDeps{Service: h.harness.svc, Shops: shops}, Files: files})

	h.harness.canary.Secret("val's password", "val-Viewer-teapot-31")
	h.val = h.createUser("val@example.test", "Val Viewer", "val-Viewer-teapot-31")
	h.addMember(h.acme, h.val, ports.RoleViewer)
	h.annCookie, _ = h.signIn("acme.example.test", "ann@example.test", annPassword)
	h.tomCookie, _ = h.signIn("acme.example.test", "tom@example.test", tomPassword)
	h.valCookie, _ = h.signIn("acme.example.test", "val@example.test", "val-Viewer-teapot-31")
	h.annBolt, _ = h.signIn("bolt.example.test", "ann@example.test", annPassword)
	return h
}

// onHost sends a request to host.
func onHost(host string) func(*request) { return func(r *request) { r.host = host } }

// request is one raw request to the handler; contentLength overrides the
// body's length when not zero (-1: unknown).
type request struct {
	method, target, host, cookie, contentType string
	body                                      []byte
	contentLength                             int64
	header                                    http.Header
}

func (h *fileHarness) do(rq request) *http.Response {
	h.t.Helper()
	req := httptest.NewRequest(rq.method, rq.target, bytes.NewReader(rq.body))
	req.Host = "acme.example.test"
	if rq.host != "" {
		req.Host = rq.host
	}
	if u, err := url.Parse(rq.target); err == nil && u.Host != "" {
		req.Host = u.Host
	}
	req.RemoteAddr = "192.0.2.10:5000"
	if rq.contentLength != 0 {
		req.ContentLength = rq.contentLength
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	if rq.cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: rq.cookie})
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	seenProblem(h.harness.canary, rq.method+" "+req.URL.Path, rec)
	return rec.Result()
}

// upload streams body as kind/name through POST /files with cookie.
func (h *fileHarness) upload(cookie, kind, name string, body []byte, mod ...func(*request)) *http.Response {
	h.t.Helper()
	rq := request{method: http.MethodPost, target: "/files?" + url.Values{"kind": {kind}, "name": {name}}.Encode(), cookie: cookie, body: body}
	for _, m := range mod {
		m(&rq)
	}
	return h.do(rq)
}

type fileBody struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	State       string `json:"state"`
	Encrypted   bool   `json:"encrypted"`
}

// uploaded uploads and requires a 201, returning the file.
func (h *fileHarness) uploaded(cookie, kind, name string, body []byte, mod ...func(*request)) fileBody {
	h.t.Helper()
	res := h.upload(cookie, kind, name, body, mod...)
	raw := readBody(h.t, res)
	require.Equal(h.t, http.StatusCreated, res.StatusCode, raw)
	var f fileBody
	require.NoError(h.t, json.Unmarshal([]byte(raw), &f))
	return f
}

// downloadURL asks for a file's download link.
func (h *fileHarness) downloadURL(cookie, host, id string) (string, *http.Response) {
	h.t.Helper()
	res := h.do(request{method: http.MethodGet, target: "/files/" + id + "/download", host: host, cookie: cookie})
	if res.StatusCode != http.StatusOK {
		return "", res
	}
	var out struct {
		URL string `json:"url"`
	}
	decodeBody(h.t, res, &out)
	return out.URL, res
}

// fetch GETs a signed URL: in-process for the server's own URLs, over the
// network for MinIO's.
func (h *fileHarness) fetch(u string) (*http.Response, []byte) {
	h.t.Helper()
	var res *http.Response
	if strings.HasPrefix(u, "https://") {
		res = h.do(request{method: http.MethodGet, target: u})
	} else {
		var err error
		res, err = http.Get(u)
		require.NoError(h.t, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return res, b
}

// objectKeys lists every object in the store.
func (h *fileHarness) objectKeys() []string {
	h.t.Helper()
	var keys []string
	token := ""
	for {
		page, err := h.objects.List(context.Background(), "", token, 1000)
		require.NoError(h.t, err)
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		if token = page.NextPageToken; token == "" {
			return keys
		}
	}
}

// requireNothingLeft proves a refused upload left no row and no object.
func (h *fileHarness) requireNothingLeft(msg string) {
	h.t.Helper()
	require.Zero(h.t, h.countRows("files"), "no file row: %s", msg)
	require.Empty(h.t, h.objectKeys(), "no object: %s", msg)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pngBytes is a tiny valid PNG header followed by n-16 random bytes.
func pngBytes(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), noise(n-16)...)
}

func pdfBytes(n int) []byte {
	return append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), noise(n-15)...)
}
