package localfs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Signed URLs look like
//
//	{BaseURL}{escaped key}?exp=UNIX&ct=…&cd=…&len=…&sig=BASE64URL
//
// where sig is HMAC-SHA256, under Options.SigningKey, of the method, the
// key, exp and every option (see macInput). exp is the first second at
// which the URL is refused. Parameters other than these, or repeated ones,
// are refused, so nothing unsigned can change a response.
const (
	paramExpiry      = "exp"
	paramContentType = "ct"
	paramDisposition = "cd"
	paramLength      = "len"
	paramSignature   = "sig"

	macDomain = "stockade-localfs-signed-url-v1"
)

// signedRequest is what a signed URL authorises.
type signedRequest struct {
	method string
	key    string
	expiry int64 // Unix seconds; refused from this second on
	opts   ports.SignedURLOptions
}

// mac returns the signature of r. The fields are joined by newlines, which
// none of them can contain (keys and header values exclude control
// characters), so two different requests never share an input.
func (s *Store) mac(r signedRequest) []byte {
	m := hmac.New(sha256.New, s.key)
	writeFields(m, macDomain, r.method, r.key, strconv.FormatInt(r.expiry, 10),
		r.opts.ContentType, r.opts.ContentDisposition, strconv.FormatInt(r.opts.ContentLength, 10))
	return m.Sum(nil)
}

func writeFields(h hash.Hash, fields ...string) {
	for _, f := range fields {
		_, _ = io.WriteString(h, f) // a hash never fails
		_, _ = h.Write([]byte{'\n'})
	}
}

// SignedURL implements ports.ObjectStore. The URL is valid from now until
// expiry (rounded up to a whole second) by the store's clock, and is
// verified by Handler.
func (s *Store) SignedURL(ctx context.Context, method, key string, expiry time.Duration, opts ports.SignedURLOptions) (string, error) {
	if err := ports.ValidateSignedURL(method, key, expiry, opts); err != nil {
		return "", mapErr("sign", key, err)
	}
	if s.base == nil {
		return "", fmt.Errorf("localfs: sign %q: no BaseURL configured: %w", key, ports.ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("localfs: sign %q: %w", key, err)
	}
	end := s.clock.Now().Add(expiry)
	exp := end.Unix()
	if end.After(time.Unix(exp, 0)) {
		exp++ // round up: never shorter than asked
	}
	r := signedRequest{method: method, key: key, expiry: exp, opts: opts}
	q := url.Values{paramExpiry: {strconv.FormatInt(exp, 10)}}
	if opts.ContentType != "" {
		q.Set(paramContentType, opts.ContentType)
	}
	if opts.ContentDisposition != "" {
		q.Set(paramDisposition, opts.ContentDisposition)
	}
	if opts.ContentLength != 0 {
		q.Set(paramLength, strconv.FormatInt(opts.ContentLength, 10))
	}
	q.Set(paramSignature, b64(s.mac(r)))
	return s.base.String() + escapeKey(key) + "?" + q.Encode(), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// escapeKey escapes each segment of key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// errRefused is why a signed request is refused; the client sees only 403.
type errRefused string

func (e errRefused) Error() string { return string(e) }

// verify parses the signed request that u carries for method and checks
// its signature and expiry. The returned error is for logs; it says why.
func (s *Store) verify(method, key string, rawQuery string) (signedRequest, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return signedRequest{}, errRefused("malformed query")
	}
	for name, vs := range q {
		switch name {
		case paramExpiry, paramContentType, paramDisposition, paramLength, paramSignature:
		default:
			return signedRequest{}, errRefused("unknown parameter " + strconv.Quote(name))
		}
		if len(vs) != 1 {
			return signedRequest{}, errRefused("repeated parameter " + name)
		}
	}
	r := signedRequest{method: method, key: key}
	r.expiry, err = strconv.ParseInt(q.Get(paramExpiry), 10, 64)
	if err != nil {
		return signedRequest{}, errRefused("malformed expiry")
	}
	r.opts.ContentType = q.Get(paramContentType)
	r.opts.ContentDisposition = q.Get(paramDisposition)
	if v := q.Get(paramLength); v != "" {
		if r.opts.ContentLength, err = strconv.ParseInt(v, 10, 64); err != nil {
			return signedRequest{}, errRefused("malformed length")
		}
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(q.Get(paramSignature))
	if err != nil {
		return signedRequest{}, errRefused("malformed signature")
	}
	if !hmac.Equal(sig, s.mac(r)) {
		return signedRequest{}, errRefused("signature does not match")
	}
	if s.clock.Now().Unix() >= r.expiry {
		return signedRequest{}, errRefused("expired")
	}
	return r, nil
}
