package s3

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// offlineStore is a Store whose client never needs the network: the region
// is set, so presigning is local.
func offlineStore(t *testing.T, endpoint, region string, pathStyle bool) *Store {
	t.Helper()
	s := &Store{cfg: Config{
		Bucket: "stockade-objects", Endpoint: endpoint, Region: region, PathStyle: pathStyle,
		AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	}}
	var err error
	s.client, err = s.newClient()
	require.NoError(t, err)
	return s
}

// TestPresignMatchesMinioGo signs the same requests with minio-go's signer
// and with signV4 at the instant minio-go used, and wants identical URLs:
// the re-signing exists only to choose the time.
func TestPresignMatchesMinioGo(t *testing.T) {
	stores := map[string]*Store{
		"path style":    offlineStore(t, "127.0.0.1:9000", "us-east-1", true),
		"virtual host":  offlineStore(t, "s3.amazonaws.com", "eu-central-1", false),
		"r2 style host": offlineStore(t, "acct.r2.cloudflarestorage.com", "auto", false),
	}
	tests := []struct {
		name    string
		method  string
		key     string
		params  url.Values
		headers http.Header
	}{
		{"plain GET", http.MethodGet, "shops/0190/files/a.pdf", nil, nil},
		{"odd key", http.MethodGet, "shops/x/ünï cødé +%25&?=#;,'~!$.txt", nil, nil},
		{"GET overrides", http.MethodGet, "k", url.Values{
			"response-content-type":        {"application/pdf"},
			"response-content-disposition": {`attachment; filename="a b.pdf"`},
		}, nil},
		{"PUT constraints", http.MethodPut, "shops/1/up", nil, http.Header{
			"Content-Type":   {"image/png"},
			"Content-Length": {"12345"},
		}},
	}
	for storeName, s := range stores {
		for _, tt := range tests {
			theirs, err := s.client.PresignHeader(t.Context(), tt.method, s.cfg.Bucket, tt.key, 90*time.Second, tt.params, tt.headers)
			require.NoError(t, err)
			at, err := time.Parse("20060102T150405Z", theirs.Query().Get("X-Amz-Date"))
			require.NoError(t, err)

			again, err := s.client.Presign(t.Context(), tt.method, s.cfg.Bucket, tt.key, 90*time.Second, tt.params)
			require.NoError(t, err)
			headers := map[string]string{}
			for k := range tt.headers {
				headers[strings.ToLower(k)] = tt.headers.Get(k)
			}
			ours := s.signV4(again, tt.method, headers, at, 90*time.Second)
			assert.Equal(t, theirs.String(), ours, "%s: %s", storeName, tt.name)
		}
	}
}

// fixedClock is a clock stopped at one instant.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestSignedURLUsesTheClock: the signing time and expiry come from the
// store's clock, which is what lets the conformance suite issue URLs in
// the past.
func TestSignedURLUsesTheClock(t *testing.T) {
	s := offlineStore(t, "127.0.0.1:9000", "us-east-1", true)
	at := time.Date(2020, 2, 29, 23, 59, 58, 500, time.UTC)
	s.clock = fixedClock(at)
	raw, err := s.SignedURL(t.Context(), http.MethodGet, "a/b", 1500*time.Millisecond, ports.SignedURLOptions{})
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "20200229T235958Z", u.Query().Get("X-Amz-Date"))
	assert.Equal(t, "2", u.Query().Get("X-Amz-Expires"), "expiry is rounded up to whole seconds")
	assert.Equal(t, "AKIDEXAMPLE/20200229/us-east-1/s3/aws4_request", u.Query().Get("X-Amz-Credential"))
	assert.NotContains(t, raw, s.cfg.SecretKey.Reveal())
}

func TestMapErr(t *testing.T) {
	tests := []struct {
		give minio.ErrorResponse
		want error
	}{
		{minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, ports.ErrNotFound},
		{minio.ErrorResponse{Code: "InvalidRange", StatusCode: 416}, ports.ErrInvalid},
		{minio.ErrorResponse{Code: "NoSuchBucket", StatusCode: 404}, ports.ErrUnavailable},
		{minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, ports.ErrUnavailable},
		{minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, ports.ErrUnavailable},
		{minio.ErrorResponse{Code: "Whatever", StatusCode: 502}, ports.ErrUnavailable},
		{minio.ErrorResponse{Code: "NotImplemented", StatusCode: 501}, ports.ErrUnsupported},
		{minio.ErrorResponse{Code: "EntityTooLarge", StatusCode: 400}, ports.ErrInvalid},
	}
	for _, tt := range tests {
		err := mapErr(context.Background(), "op", "k", tt.give)
		assert.ErrorIs(t, err, tt.want, tt.give.Code)
		var leaked minio.ErrorResponse
		assert.False(t, errors.As(err, &leaked), "%s: the driver error must not be reachable", tt.give.Code)
	}
	unknown := mapErr(context.Background(), "op", "k", minio.ErrorResponse{Code: "Odd", StatusCode: 400, Message: "odd"})
	assert.Contains(t, unknown.Error(), "Odd")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mapErr(ctx, "op", "k", errors.New("Put: net/http: request canceled"))
	assert.ErrorIs(t, err, context.Canceled, "a done context wins over the transport's words")
}

func TestAnonymousGrants(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   int
	}{
		{"no policy", "", 0},
		{"download", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]}`, 1},
		{"star string", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, 1},
		{"single statement object", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*"}}`, 1},
		{"star among others", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"s3:ListBucket"}]}`, 1},
		{"conditioned", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, 1},
		{"not principal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject"}]}`, 1},
		{"named principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/app"},"Action":"s3:*"}]}`, 0},
		{"deny everyone", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}`, 0},
		{"two public", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"},{"Sid":"L","Effect":"allow","Principal":"*","Action":"s3:ListBucket"}]}`, 2},
	}
	for _, tt := range tests {
		got, err := anonymousGrants(tt.policy)
		require.NoError(t, err, tt.name)
		assert.Len(t, got, tt.want, tt.name)
	}
	_, err := anonymousGrants(`{"Statement":[{"Effect":"Allow","Principal":42}]}`)
	assert.Error(t, err, "an unparsable policy is not waved through")
}
