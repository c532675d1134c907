package testinfra_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/testinfra"
)

func TestMinIOSmoke(t *testing.T) {
	t.Parallel()
	s3 := testinfra.StartMinIO(t)
	ctx := t.Context()

	client, err := minio.New(s3.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""),
		Secure: false,
		Region: s3.Region,
	})
	require.NoError(t, err)

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	bucket := "smoke-" + hex.EncodeToString(suffix)
	require.NoError(t, client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s3.Region}))

	payload := make([]byte, 1<<20+123)
	_, _ = rand.Read(payload)
	info, err := client.PutObject(ctx, bucket, "dir/blob", bytes.NewReader(payload), int64(len(payload)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	require.NoError(t, err)
	assert.Equal(t, int64(len(payload)), info.Size)

	obj, err := client.GetObject(ctx, bucket, "dir/blob", minio.GetObjectOptions{})
	require.NoError(t, err)
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.NoError(t, obj.Close())
	assert.True(t, bytes.Equal(payload, got), "read back %d bytes, want the %d written", len(got), len(payload))

	stat, err := client.StatObject(ctx, bucket, "dir/blob", minio.StatObjectOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(len(payload)), stat.Size)

	// GetObject is lazy: the error surfaces on the first Stat or Read.
	missing, err := client.GetObject(ctx, bucket, "no/such/key", minio.GetObjectOptions{})
	if err == nil {
		_, err = missing.Stat()
		_ = missing.Close()
	}
	require.Error(t, err)
	assert.Equal(t, "NoSuchKey", minio.ToErrorResponse(err).Code)
}
