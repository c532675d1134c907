package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/ports"
)

// publicPolicy is what `mc anonymous set download` writes, with the
// principal and actions varied by the cases below.
func publicPolicy(bucket, principal, action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":%s,"Action":[%q],"Resource":[%q]}]}`,
		principal, action, fmt.Sprintf(resource, bucket))
}

// TestOpenRefusesPublicBucket is the STO-1 attack: an operator (or an
// intruder with admin rights) makes the bucket world-readable. The test
// first proves the grant is real — an anonymous GET succeeds — and then
// that Open refuses to run on it.
func TestOpenRefusesPublicBucket(t *testing.T) {
	tests := []struct {
		name, principal, action, resource string
	}{
		{"download", `{"AWS":["*"]}`, "s3:GetObject", "arn:aws:s3:::%s/*"},
		{"star principal", `"*"`, "s3:GetObject", "arn:aws:s3:::%s/*"},
		{"all actions", `{"AWS":"*"}`, "s3:*", "arn:aws:s3:::%s/*"},
		{"list only", `{"AWS":["*"]}`, "s3:ListBucket", "arn:aws:s3:::%s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, m := minioConfig(t)
			admin := adminClient(t, m)
			ctx := t.Context()
			require.NoError(t, admin.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: m.Region}))
			_, err := admin.PutObject(ctx, cfg.Bucket, "shops/a/secret", strings.NewReader("secret"), 6, minio.PutObjectOptions{})
			require.NoError(t, err)
			require.NoError(t, admin.SetBucketPolicy(ctx, cfg.Bucket, publicPolicy(cfg.Bucket, tt.principal, tt.action, tt.resource)))

			anonymous := "http://" + m.Endpoint + "/" + cfg.Bucket + "/shops/a/secret"
			want := "secret"
			if tt.action == "s3:ListBucket" {
				anonymous, want = "http://"+m.Endpoint+"/"+cfg.Bucket+"/", "shops/a/secret"
			}
			resp, err := http.Get(anonymous)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Contains(t, string(body), want, "the attack is real: anyone can read the bucket")

			_, err = s3.Open(ctx, cfg)
			require.ErrorIs(t, err, s3.ErrPublicBucket)
			var pub *s3.PublicBucketError
			require.ErrorAs(t, err, &pub)
			assert.Equal(t, cfg.Bucket, pub.Bucket)
			require.Len(t, pub.Statements, 1)
			assert.Contains(t, pub.Statements[0], tt.action)

			// Made private again, the same bucket opens.
			require.NoError(t, admin.SetBucketPolicy(ctx, cfg.Bucket, ""))
			s, err := s3.Open(ctx, cfg)
			require.NoError(t, err)
			_, err = s.Stat(ctx, "shops/a/secret")
			require.NoError(t, err)
		})
	}
}

func TestOpenMissingBucket(t *testing.T) {
	cfg, _ := minioConfig(t)
	cfg.CreateBucket = false
	_, err := s3.Open(t.Context(), cfg)
	require.ErrorIs(t, err, ports.ErrNotFound)
	assert.Contains(t, err.Error(), "create_bucket=true")
}

// TestOpenSSEWithoutKMS records what the test MinIO (started without a
// KMS) does with sse=s3: it has no default bucket encryption and cannot
// have one, and Open says so instead of writing objects in clear.
func TestOpenSSEWithoutKMS(t *testing.T) {
	cfg, m := minioConfig(t)
	cfg.SSE = true
	_, err := s3.Open(t.Context(), cfg)
	require.ErrorIs(t, err, ports.ErrUnsupported)
	assert.Contains(t, err.Error(), "default encryption")

	// And MinIO refuses the SSE-S3 header itself on a plain bucket.
	admin := adminClient(t, m)
	_, err = admin.PutObject(t.Context(), cfg.Bucket, "x", strings.NewReader("x"), 1, minio.PutObjectOptions{ServerSideEncryption: encrypt.NewSSE()})
	require.Error(t, err)
	t.Logf("MinIO without KMS answers SSE-S3 with: %v", err)
}

func TestOpenWithWrongSecretIsUnavailable(t *testing.T) {
	cfg, _ := minioConfig(t)
	cfg.SecretKey = "wrong-secret-do-not-print"
	_, err := s3.Open(t.Context(), cfg)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.NotContains(t, err.Error(), "wrong-secret-do-not-print")
	var resp minio.ErrorResponse
	assert.False(t, errors.As(err, &resp), "a minio-go error must not cross the port")
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = s3.Open(ctx, s3.Config{Bucket: "b-unreachable", Endpoint: addr, Region: "us-east-1", PathStyle: true, Insecure: true, AccessKey: "k", SecretKey: "s"})
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

func TestOpenValidatesConfig(t *testing.T) {
	good := s3.Config{Bucket: "objects", Endpoint: "127.0.0.1:9", AccessKey: "k", SecretKey: "s"}
	tests := []struct {
		name string
		edit func(*s3.Config)
	}{
		{"no bucket", func(c *s3.Config) { c.Bucket = "" }},
		{"bad bucket", func(c *s3.Config) { c.Bucket = "Bad_Bucket" }},
		{"endpoint with scheme", func(c *s3.Config) { c.Endpoint = "http://host:9000" }},
		{"no access key", func(c *s3.Config) { c.AccessKey = "" }},
		{"no secret", func(c *s3.Config) { c.SecretKey = "" }},
		{"tiny parts", func(c *s3.Config) { c.PartSize = 1 << 20 }},
	}
	for _, tt := range tests {
		cfg := good
		tt.edit(&cfg)
		_, err := s3.Open(t.Context(), cfg)
		assert.ErrorIs(t, err, ports.ErrInvalid, tt.name)
	}
}

// TestPingSeesAPolicyMadePublicLater: the STO-1 check is not only at
// start; a readiness probe calling Ping catches a bucket made public while
// the server runs.
func TestPingSeesAPolicyMadePublicLater(t *testing.T) {
	cfg, m := minioConfig(t)
	s, err := s3.Open(t.Context(), cfg)
	require.NoError(t, err)
	require.NoError(t, s.Ping(t.Context()))
	admin := adminClient(t, m)
	require.NoError(t, admin.SetBucketPolicy(t.Context(), cfg.Bucket, publicPolicy(cfg.Bucket, `"*"`, "s3:GetObject", "arn:aws:s3:::%s/*")))
	require.ErrorIs(t, s.Ping(t.Context()), s3.ErrPublicBucket)
}
