package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/stockadehq/stockade/ports"
)

// SignedURL implements ports.ObjectStore with an AWS Signature V4
// presigned URL. GET options travel as the response-content-type and
// response-content-disposition parameters S3 honours; PUT options become
// signed headers (content-type, content-length) the upload must repeat,
// so S3 itself refuses another type or size.
//
// minio-go builds the URL (host, bucket addressing, path escaping) but
// signs with time.Now; the URL is re-signed here with the store's clock,
// following the published algorithm, so that tests can issue URLs in the
// past and see S3 refuse them. TestPresignMatchesMinioGo checks that both
// signers agree byte for byte at the same instant.
func (s *Store) SignedURL(ctx context.Context, method, key string, expiry time.Duration, opts ports.SignedURLOptions) (string, error) {
	if err := ports.ValidateSignedURL(method, key, expiry, opts); err != nil {
		return "", mapErr(ctx, "sign", key, err)
	}
	if err := ctx.Err(); err != nil {
		return "", mapErr(ctx, "sign", key, err)
	}
	params := url.Values{}
	headers := map[string]string{}
	switch method {
	case http.MethodGet:
		if opts.ContentType != "" {
			params.Set("response-content-type", opts.ContentType)
		}
		if opts.ContentDisposition != "" {
			params.Set("response-content-disposition", opts.ContentDisposition)
		}
	case http.MethodPut:
		if opts.ContentType != "" {
			headers["content-type"] = opts.ContentType
		}
		if opts.ContentLength > 0 {
			headers["content-length"] = strconv.FormatInt(opts.ContentLength, 10)
		}
	}
	u, err := s.client.Presign(ctx, method, s.cfg.Bucket, key, expiry, params)
	if err != nil {
		return "", mapErr(ctx, "sign", key, err)
	}
	return s.signV4(u, method, headers, s.clock.Now(), expiry), nil
}

// signV4 replaces u's signature with one made at t for expiry, over the
// host and the given lower-case headers, and returns the URL.
func (s *Store) signV4(u *url.URL, method string, headers map[string]string, t time.Time, expiry time.Duration) string {
	const algorithm = "AWS4-HMAC-SHA256"
	t = t.UTC()
	day := t.Format("20060102")
	scope := day + "/" + s.cfg.Region + "/s3/aws4_request"

	headers["host"] = u.Host
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, name := range names {
		canonHeaders.WriteString(name + ":" + strings.Join(strings.Fields(headers[name]), " ") + "\n")
	}
	signedHeaders := strings.Join(names, ";")

	q := u.Query()
	for name := range q {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-") {
			q.Del(name)
		}
	}
	q.Set("X-Amz-Algorithm", algorithm)
	q.Set("X-Amz-Credential", s.cfg.AccessKey+"/"+scope)
	q.Set("X-Amz-Date", t.Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", strconv.FormatInt(int64((expiry+time.Second-1)/time.Second), 10))
	q.Set("X-Amz-SignedHeaders", signedHeaders)
	if s.cfg.SessionToken != "" {
		q.Set("X-Amz-Security-Token", s.cfg.SessionToken.Reveal())
	}
	query := strings.ReplaceAll(q.Encode(), "+", "%20")

	canonical := strings.Join([]string{
		method,
		s3utils.EncodePath(u.Path),
		query,
		canonHeaders.String(),
		signedHeaders,
		"UNSIGNED-PAYLOAD",
	}, "\n")
	digest := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + t.Format("20060102T150405Z") + "\n" + scope + "\n" + hex.EncodeToString(digest[:])

	key := hmacSHA256([]byte("AWS4"+s.cfg.SecretKey.Reveal()), day)
	key = hmacSHA256(key, s.cfg.Region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	u.RawQuery = query + "&X-Amz-Signature=" + hex.EncodeToString(hmacSHA256(key, toSign))
	return u.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
