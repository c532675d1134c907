package s3_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/ports"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		give string
		want s3.Config
	}{
		{"s3://objects?endpoint=127.0.0.1:9000&path_style=true&insecure=true&create_bucket=true",
			s3.Config{Bucket: "objects", Endpoint: "127.0.0.1:9000", PathStyle: true, Insecure: true, CreateBucket: true}},
		{"s3://objects?endpoint=acct.r2.cloudflarestorage.com&region=auto",
			s3.Config{Bucket: "objects", Endpoint: "acct.r2.cloudflarestorage.com", Region: "auto"}},
		{"s3://objects?region=eu-central-1&sse=s3", s3.Config{Bucket: "objects", Region: "eu-central-1", SSE: true}},
		{"s3://objects/", s3.Config{Bucket: "objects"}},
	}
	for _, tt := range tests {
		got, err := s3.ParseURL(tt.give)
		require.NoError(t, err, tt.give)
		assert.Equal(t, tt.want, got, tt.give)
	}
	for _, bad := range []string{
		"file:///x", "s3://", "s3://Bad_Bucket", "s3://objects/prefix",
		"s3://KEY:SECRET@objects", "s3://objects?secret_key=x", "s3://objects?insecure=maybe",
		"s3://objects?sse=kms", "s3://objects?endpoint=http://host", "s3://objects?region=a&region=b",
	} {
		_, err := s3.ParseURL(bad)
		assert.ErrorIs(t, err, ports.ErrInvalid, bad)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const secret, token = "very-secret-key-0123456789", "session-token-0123456789"
	cfg := s3.Config{Bucket: "objects", AccessKey: "AKID", SecretKey: secret, SessionToken: token}
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "secret", cfg.SecretKey)
	renderings := map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"String": cfg.String(), "secret %v": fmt.Sprintf("%v", cfg.SecretKey),
		"secret %#v": fmt.Sprintf("%#v", cfg.SecretKey), "json": string(js), "slog": logged.String(),
	}
	for how, out := range renderings {
		assert.NotContains(t, out, secret, how)
		assert.NotContains(t, out, token, how)
	}
	assert.Contains(t, renderings["%v"], "[redacted]")
	assert.Equal(t, secret, cfg.SecretKey.Reveal())
}
