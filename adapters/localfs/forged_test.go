package localfs

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestHandlerRefusesTraversalEvenWhenSigned forges valid signatures for
// traversal keys, as if the core had been tricked into signing one, and
// sends them to the handler directly (no ServeMux path cleaning in front).
// The handler validates the key independently of the signature.
func TestHandlerRefusesTraversalEvenWhenSigned(t *testing.T) {
	parent := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(parent, "victim.o"), []byte("victim"), 0o600))
	s, err := Open(filepath.Join(parent, "objects"), Options{
		BaseURL:    "http://files.test/objects/",
		SigningKey: []byte(strings.Repeat("k", 32)),
	})
	require.NoError(t, err)
	defer s.Close()
	exp := time.Now().Add(time.Hour).Unix()
	forge := func(method, key string) string {
		return "exp=" + strconv.FormatInt(exp, 10) + "&sig=" + b64(s.mac(signedRequest{method: method, key: key, expiry: exp}))
	}

	paths := map[string]string{ // raw request path -> the key it decodes to
		"/objects/..%2Fvictim":                  "../victim",
		"/objects/%2e%2e/victim":                "../victim",
		"/objects/a/..%2F..%2Fvictim":           "a/../../victim",
		"/objects/..%5Cvictim":                  `..\victim`,
		"/objects/%2Fetc%2Fpasswd":              "/etc/passwd",
		"/objects/victim%00":                    "victim\x00",
		"/objects/a//b":                         "a//b",
		"/objects/" + strings.Repeat("a", 1100): strings.Repeat("a", 1100),
	}
	for path, key := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			req := httptest.NewRequest(method, "http://files.test/objects/x", strings.NewReader("pwned"))
			req.URL.RawPath, req.URL.Path = path, "/objects/"+key
			req.URL.RawQuery = forge(method, key)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			assert.Equal(t, http.StatusBadRequest, rec.Code, "%s %s", method, path)
			assert.NotContains(t, rec.Body.String(), "victim", "%s %s", method, path)
		}
	}
	got, err := os.ReadFile(filepath.Join(parent, "victim.o"))
	require.NoError(t, err)
	assert.Equal(t, "victim", string(got))
	entries, err := os.ReadDir(filepath.Join(parent, "objects"))
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written")
}

// TestSignatureCoversEveryField: changing any signed field changes the MAC,
// and the fields cannot be shifted into one another.
func TestSignatureCoversEveryField(t *testing.T) {
	s := &Store{key: []byte(strings.Repeat("k", 32))}
	base := signedRequest{method: "GET", key: "a/b", expiry: 100, opts: ports.SignedURLOptions{ContentType: "text/plain", ContentDisposition: "inline"}}
	variants := []signedRequest{
		{method: "PUT", key: "a/b", expiry: 100, opts: base.opts},
		{method: "GET", key: "a/c", expiry: 100, opts: base.opts},
		{method: "GET", key: "a/b", expiry: 101, opts: base.opts},
		{method: "GET", key: "a/b", expiry: 100, opts: ports.SignedURLOptions{ContentType: "text/html", ContentDisposition: "inline"}},
		{method: "GET", key: "a/b", expiry: 100, opts: ports.SignedURLOptions{ContentType: "text/plain", ContentDisposition: "attachment"}},
		{method: "GET", key: "a/b", expiry: 100, opts: ports.SignedURLOptions{ContentType: "text/plain", ContentDisposition: "inline", ContentLength: 1}},
		{method: "GET", key: "a/b", expiry: 100, opts: ports.SignedURLOptions{ContentType: "", ContentDisposition: "text/plain"}},
	}
	want := b64(s.mac(base))
	for _, v := range variants {
		assert.NotEqual(t, want, b64(s.mac(v)), "%+v", v)
	}
	other := &Store{key: []byte(strings.Repeat("j", 32))}
	assert.NotEqual(t, want, b64(other.mac(base)), "another key")
}

// TestSignatureEncodingIsCanonical: a signature whose last base64 character
// differs only in the unused low bits decodes to the same bytes under
// lenient decoding; the handler must refuse it all the same (the porttest's
// one-character tamper hit this one time in four).
func TestSignatureEncodingIsCanonical(t *testing.T) {
	s, err := Open(t.TempDir(), Options{BaseURL: "http://files.test/objects/", SigningKey: []byte(strings.Repeat("k", 32))})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Put(t.Context(), "x", strings.NewReader("x"), 1, "text/plain"))
	exp := time.Now().Add(time.Hour).Unix()
	sig := b64(s.mac(signedRequest{method: http.MethodGet, key: "x", expiry: exp}))
	// 32 bytes are 43 characters; the last carries 4 data bits and 2 unused.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	require.Zero(t, last&3, "canonical encodings leave the unused bits zero")
	sibling := sig[:len(sig)-1] + string(alphabet[last|1])
	for name, sg := range map[string]string{"canonical": sig, "non-canonical sibling": sibling} {
		req := httptest.NewRequest(http.MethodGet, "http://files.test/objects/x?exp="+strconv.FormatInt(exp, 10)+"&sig="+sg, nil)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if name == "canonical" {
			assert.Equal(t, http.StatusOK, rec.Code, name)
		} else {
			assert.Equal(t, http.StatusForbidden, rec.Code, name)
		}
	}
}
