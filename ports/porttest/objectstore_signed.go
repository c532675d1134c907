package porttest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// fetch sends method to rawURL with body (nil for none) and extra headers
// through http.DefaultClient, and returns the status, headers and body.
func fetch(t *testing.T, method, rawURL string, body []byte, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, r)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "%s %s", method, rawURL)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, data
}

// signed returns a signed URL and requires success.
func signed(t *testing.T, s ports.ObjectStore, method, key string, expiry time.Duration, opts ports.SignedURLOptions) string {
	t.Helper()
	u, err := s.SignedURL(t.Context(), method, key, expiry, opts)
	require.NoError(t, err, "SignedURL %s %q", method, key)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	require.True(t, parsed.IsAbs(), "a signed URL is absolute: %s", u)
	return u
}

// requireRefused checks that a request was refused with a 4xx status and
// did not leak secret in the body.
func requireRefused(t *testing.T, status int, body, secret []byte, msgAndArgs ...any) {
	t.Helper()
	require.True(t, status >= 400 && status < 500, "want a 4xx refusal, got %d %v", status, msgAndArgs)
	if len(secret) > 0 {
		require.False(t, bytes.Contains(body, secret), "a refused request leaked the object %v", msgAndArgs)
	}
}

func testSignedGet(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	data := payload(11, 100<<10)
	keys := []string{"signed/get.bin", "signed/sub dir/ünïcødé +%25&?=#.bin"}
	for _, key := range keys {
		putObject(t, s, key, data, "application/x-test")
		status, h, body := fetch(t, http.MethodGet, signed(t, s, http.MethodGet, key, 5*time.Minute, ports.SignedURLOptions{}), nil, nil)
		require.Equal(t, http.StatusOK, status, "%q: %s", key, body)
		requireBytes(t, data, body, key)
		assert.Equal(t, "application/x-test", h.Get("Content-Type"), key)
	}

	opts := ports.SignedURLOptions{ContentType: "application/pdf", ContentDisposition: `attachment; filename="invoice 7.pdf"`}
	status, h, body := fetch(t, http.MethodGet, signed(t, s, http.MethodGet, keys[0], time.Minute, opts), nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	requireBytes(t, data, body)
	assert.Equal(t, "application/pdf", h.Get("Content-Type"))
	assert.Equal(t, opts.ContentDisposition, h.Get("Content-Disposition"))

	status, _, body = fetch(t, http.MethodGet, signed(t, s, http.MethodGet, "signed/missing", time.Minute, ports.SignedURLOptions{}), nil, nil)
	assert.Equal(t, http.StatusNotFound, status, "a signed GET of a missing key: %s", body)
}

func testSignedPut(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	data := payload(12, 70<<10)
	opts := ports.SignedURLOptions{ContentType: "image/png", ContentLength: int64(len(data))}
	u := signed(t, s, http.MethodPut, "signed/up/photo.png", 5*time.Minute, opts)
	status, _, body := fetch(t, http.MethodPut, u, data, http.Header{"Content-Type": {"image/png"}})
	require.True(t, status >= 200 && status < 300, "signed PUT: %d %s", status, body)
	got, info := readObject(t, s, "signed/up/photo.png")
	requireBytes(t, data, got)
	assert.Equal(t, "image/png", info.ContentType)

	// Unconstrained PUT: the request's content type is stored.
	u = signed(t, s, http.MethodPut, "signed/up/free", 5*time.Minute, ports.SignedURLOptions{})
	status, _, body = fetch(t, http.MethodPut, u, []byte("free"), http.Header{"Content-Type": {"text/plain"}})
	require.True(t, status >= 200 && status < 300, "signed PUT: %d %s", status, body)
	got, info = readObject(t, s, "signed/up/free")
	assert.Equal(t, []byte("free"), got)
	assert.Equal(t, "text/plain", info.ContentType)

	// The signed constraints hold.
	u = signed(t, s, http.MethodPut, "signed/up/strict", 5*time.Minute, opts)
	status, _, _ = fetch(t, http.MethodPut, u, data, http.Header{"Content-Type": {"text/html"}})
	requireRefused(t, status, nil, nil, "PUT with another content type than signed")
	status, _, _ = fetch(t, http.MethodPut, u, append(bytes.Clone(data), 'x'), http.Header{"Content-Type": {"image/png"}})
	requireRefused(t, status, nil, nil, "PUT one byte longer than signed")
	status, _, _ = fetch(t, http.MethodPut, u, data[1:], http.Header{"Content-Type": {"image/png"}})
	requireRefused(t, status, nil, nil, "PUT one byte shorter than signed")
	requireAbsent(t, s, "signed/up/strict")

	// A GET URL does not allow a PUT, nor a PUT URL a GET.
	getURL := signed(t, s, http.MethodGet, "signed/up/photo.png", time.Minute, ports.SignedURLOptions{})
	status, _, _ = fetch(t, http.MethodPut, getURL, []byte("overwritten"), nil)
	requireRefused(t, status, nil, nil, "PUT through a GET URL")
	putURL := signed(t, s, http.MethodPut, "signed/up/photo.png", time.Minute, ports.SignedURLOptions{})
	status, _, body = fetch(t, http.MethodGet, putURL, nil, nil)
	requireRefused(t, status, body, data[:64], "GET through a PUT URL")
	got, _ = readObject(t, s, "signed/up/photo.png")
	requireBytes(t, data, got, "the object is unchanged")
}

func testSignedURLArguments(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	tests := []struct {
		name   string
		method string
		expiry time.Duration
		opts   ports.SignedURLOptions
	}{
		{"DELETE", http.MethodDelete, time.Minute, ports.SignedURLOptions{}},
		{"lower-case get", "get", time.Minute, ports.SignedURLOptions{}},
		{"zero expiry", http.MethodGet, 0, ports.SignedURLOptions{}},
		{"negative expiry", http.MethodGet, -time.Minute, ports.SignedURLOptions{}},
		{"eight days", http.MethodGet, 8 * 24 * time.Hour, ports.SignedURLOptions{}},
		{"header injection", http.MethodGet, time.Minute, ports.SignedURLOptions{ContentDisposition: "attachment\r\nSet-Cookie: x=1"}},
		{"bad content type", http.MethodPut, time.Minute, ports.SignedURLOptions{ContentType: "text/html\nX: y"}},
		{"length on GET", http.MethodGet, time.Minute, ports.SignedURLOptions{ContentLength: 5}},
		{"negative length", http.MethodPut, time.Minute, ports.SignedURLOptions{ContentLength: -1}},
		{"disposition on PUT", http.MethodPut, time.Minute, ports.SignedURLOptions{ContentDisposition: "attachment"}},
	}
	for _, tt := range tests {
		_, err := s.SignedURL(t.Context(), tt.method, "signed/args", tt.expiry, tt.opts)
		require.ErrorIs(t, err, ports.ErrInvalid, tt.name)
	}
}

func testSignedURLExpired(t *testing.T, s ports.ObjectStore, clock *ShiftClock) {
	data := payload(13, 1000)
	putObject(t, s, "signed/exp", data, "")

	// Issued an hour ago for a minute: expired 59 minutes ago.
	clock.Shift(-time.Hour)
	getURL := signed(t, s, http.MethodGet, "signed/exp", time.Minute, ports.SignedURLOptions{})
	putURL := signed(t, s, http.MethodPut, "signed/exp-put", time.Minute, ports.SignedURLOptions{})
	clock.Shift(0)
	status, _, body := fetch(t, http.MethodGet, getURL, nil, nil)
	requireRefused(t, status, body, data, "expired GET")
	status, _, _ = fetch(t, http.MethodPut, putURL, []byte("late"), nil)
	requireRefused(t, status, nil, nil, "expired PUT")
	requireAbsent(t, s, "signed/exp-put")

	// Issued an hour ago for two hours: still valid (the clock is honoured
	// both ways, so the refusals above are about expiry).
	clock.Shift(-time.Hour)
	getURL = signed(t, s, http.MethodGet, "signed/exp", 2*time.Hour, ports.SignedURLOptions{})
	clock.Shift(0)
	status, _, body = fetch(t, http.MethodGet, getURL, nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	requireBytes(t, data, body)
}

func testSignedURLTampered(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	mine, theirs := payload(14, 2000), payload(15, 2000)
	putObject(t, s, "shops/aaaa/doc", mine, "")
	putObject(t, s, "shops/bbbb/doc", theirs, "")
	raw := signed(t, s, http.MethodGet, "shops/aaaa/doc", 5*time.Minute, ports.SignedURLOptions{})
	status, _, body := fetch(t, http.MethodGet, raw, nil, nil)
	require.Equal(t, http.StatusOK, status, "the untampered URL works")
	requireBytes(t, mine, body)

	// Re-targeted at another shop's object of the same length.
	require.Contains(t, raw, "aaaa")
	status, _, body = fetch(t, http.MethodGet, strings.Replace(raw, "aaaa", "bbbb", 1), nil, nil)
	requireRefused(t, status, body, theirs[:64], "URL re-targeted at another key")

	// Every query parameter is covered: changing one byte of any is refused.
	u, err := url.Parse(raw)
	require.NoError(t, err)
	require.NotEmpty(t, u.Query(), "a signed URL carries its signature in the query")
	for name, values := range u.Query() {
		q := u.Query()
		q.Set(name, flipByte(values[0]))
		tampered := *u
		tampered.RawQuery = q.Encode()
		status, _, body := fetch(t, http.MethodGet, tampered.String(), nil, nil)
		requireRefused(t, status, body, mine[:64], "parameter "+name+" altered")
	}

	// The response options are covered too: a URL that serves the object
	// as an attachment cannot be turned into one that serves it inline
	// (or as another type), by changing or by dropping the option.
	opts := ports.SignedURLOptions{ContentType: "application/pdf", ContentDisposition: `attachment; filename="mine.pdf"`}
	withOpts, err := url.Parse(signed(t, s, http.MethodGet, "shops/aaaa/doc", 5*time.Minute, opts))
	require.NoError(t, err)
	status, h, body := fetch(t, http.MethodGet, withOpts.String(), nil, nil)
	require.Equal(t, http.StatusOK, status, "the untampered URL with options works: %s", body)
	require.Equal(t, opts.ContentDisposition, h.Get("Content-Disposition"))
	optionParams := 0
	for name, values := range withOpts.Query() {
		if !strings.Contains(values[0], "attachment") && !strings.Contains(values[0], "application/pdf") {
			continue
		}
		optionParams++
		for _, v := range []string{flipByte(values[0]), "inline", "text/html", ""} {
			q := withOpts.Query()
			if v == "" {
				q.Del(name)
			} else {
				q.Set(name, v)
			}
			tampered := *withOpts
			tampered.RawQuery = q.Encode()
			status, _, body := fetch(t, http.MethodGet, tampered.String(), nil, nil)
			requireRefused(t, status, body, mine[:64], "option "+name+" set to "+strconv.Quote(v))
		}
	}
	require.Equal(t, 2, optionParams, "the URL carries the content type and disposition: %s", withOpts)

	// Stripped of its query, the URL is a plain anonymous request: refused.
	stripped := *u
	stripped.RawQuery = ""
	status, _, body = fetch(t, http.MethodGet, stripped.String(), nil, nil)
	requireRefused(t, status, body, mine[:64], "anonymous GET")

	// An added response override either is refused or changes nothing.
	q := u.Query()
	q.Set("response-content-type", "text/html")
	q.Set("ct", "text/html")
	added := *u
	added.RawQuery = q.Encode()
	status, h, _ = fetch(t, http.MethodGet, added.String(), nil, nil)
	if status < 400 {
		assert.NotContains(t, h.Get("Content-Type"), "text/html", "an unsigned override was honoured")
	}
}

// flipByte changes the last byte of v (or makes v non-empty).
func flipByte(v string) string {
	if v == "" {
		return "x"
	}
	last := v[len(v)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return v[:len(v)-1] + string(repl)
}
