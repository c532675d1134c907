package s3_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/ports"
)

// TestMultipartSizeLie runs the size lie of the conformance suite across
// part boundaries (5 MiB parts): the upload fails, no object appears, and
// minio-go aborts the multipart upload so no parts are left behind.
func TestMultipartSizeLie(t *testing.T) {
	cfg, m := minioConfig(t)
	cfg.PartSize = 5 << 20
	s, err := s3.Open(t.Context(), cfg)
	require.NoError(t, err)
	const declared = 12<<20 + 7 // three parts
	tests := []struct {
		name   string
		actual int
	}{
		{"longer", declared + 1},
		{"shorter in the last part", declared - 1},
		{"shorter by parts", 4 << 20},
	}
	for _, tt := range tests {
		err := s.Put(t.Context(), "mp/lie", bytes.NewReader(make([]byte, tt.actual)), declared, "")
		require.ErrorIs(t, err, ports.ErrInvalid, tt.name)
		_, err = s.Stat(t.Context(), "mp/lie")
		require.ErrorIs(t, err, ports.ErrNotFound, tt.name)
	}
	require.NoError(t, s.Put(t.Context(), "mp/ok", bytes.NewReader(make([]byte, declared)), declared, ""))
	info, err := s.Stat(t.Context(), "mp/ok")
	require.NoError(t, err)
	assert.Equal(t, int64(declared), info.Size)

	// MinIO lists incomplete uploads by exact key only, not by prefix.
	var incomplete []string
	for u := range adminClient(t, m).ListIncompleteUploads(t.Context(), cfg.Bucket, "mp/lie", true) {
		require.NoError(t, u.Err)
		incomplete = append(incomplete, u.Key)
	}
	assert.Empty(t, incomplete, "failed uploads were aborted")
}
