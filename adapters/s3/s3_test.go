package s3_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }

// bucketName returns a fresh bucket name.
func bucketName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "stockade-test-" + hex.EncodeToString(b)
}

// minioConfig returns a Config for a new bucket on the test MinIO.
func minioConfig(t testing.TB) (s3.Config, testinfra.MinIO) {
	t.Helper()
	m := testinfra.StartMinIO(t)
	return s3.Config{
		Bucket:       bucketName(),
		Endpoint:     m.Endpoint,
		Region:       m.Region,
		PathStyle:    true,
		Insecure:     true,
		CreateBucket: true,
		AccessKey:    m.AccessKey,
		SecretKey:    s3.Secret(m.SecretKey),
	}, m
}

// openFresh opens a store on a new bucket of the test MinIO.
func openFresh(t testing.TB, clock ports.Clock) *s3.Store {
	t.Helper()
	cfg, _ := minioConfig(t)
	cfg.Clock = clock
	s, err := s3.Open(t.Context(), cfg)
	require.NoError(t, err)
	return s
}

// adminClient is a plain minio-go client with the root credentials, to
// arrange what the adapter must refuse.
func adminClient(t testing.TB, m testinfra.MinIO) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""),
		Region: m.Region,
	})
	require.NoError(t, err)
	return c
}

func TestObjectStoreConformance(t *testing.T) {
	porttest.TestObjectStore(t, func(t *testing.T, clock ports.Clock) ports.ObjectStore {
		return openFresh(t, clock)
	})
}
