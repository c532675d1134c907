package porttest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func testObjectMove(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	data := payload(21, 300<<10)
	putObject(t, s, "move/staging/a", data, "image/png")
	require.NoError(t, s.Move(t.Context(), "move/staging/a", "move/final/a"))
	got, info := readObject(t, s, "move/final/a")
	requireBytes(t, data, got, "the moved object")
	assert.Equal(t, "image/png", info.ContentType, "the content type moves with the object")
	requireAbsent(t, s, "move/staging/a")
	assert.Equal(t, []string{"move/final/a"}, allKeys(t, s, "move/", 0))

	// Over an existing object: replaced whole.
	old, newer := payload(22, 1000), payload(23, 2000)
	putObject(t, s, "move/final/b", old, "text/plain")
	putObject(t, s, "move/staging/b", newer, "application/pdf")
	require.NoError(t, s.Move(t.Context(), "move/staging/b", "move/final/b"))
	got, info = readObject(t, s, "move/final/b")
	requireBytes(t, newer, got)
	assert.Equal(t, "application/pdf", info.ContentType)
	requireAbsent(t, s, "move/staging/b")

	// A missing source is ErrNotFound and leaves the target alone.
	err := s.Move(t.Context(), "move/staging/none", "move/final/b")
	require.ErrorIs(t, err, ports.ErrNotFound)
	got, _ = readObject(t, s, "move/final/b")
	requireBytes(t, newer, got, "a failed move changes nothing")

	for _, tt := range []struct{ name, src, dst string }{
		{"same key", "move/final/b", "move/final/b"},
		{"bad source", "../etc/passwd", "move/final/c"},
		{"bad target", "move/final/b", "move//c"},
	} {
		require.ErrorIs(t, s.Move(t.Context(), tt.src, tt.dst), ports.ErrInvalid, tt.name)
	}
	got, _ = readObject(t, s, "move/final/b")
	requireBytes(t, newer, got, "refused moves change nothing")
}

// testSignedPutAfterMove is issue 16 item 7: an upload through a signed
// PUT URL is checked, then moved from the key the URL names to a key that
// was never signed for PUT. The URL stays valid, but nothing PUT through
// it afterwards reaches the moved object, and after the moved object is
// deleted, a PUT does not recreate it.
func testSignedPutAfterMove(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	checked, swapped := payload(24, 50<<10), payload(25, 50<<10)
	opts := ports.SignedURLOptions{ContentType: "image/png", ContentLength: int64(len(checked))}
	u := signed(t, s, http.MethodPut, "upload/staging/f1", 15*time.Minute, opts)
	hdr := http.Header{"Content-Type": {"image/png"}}
	status, _, body := fetch(t, http.MethodPut, u, checked, hdr)
	require.True(t, status >= 200 && status < 300, "signed PUT: %d %s", status, body)
	require.NoError(t, s.Move(t.Context(), "upload/staging/f1", "upload/final/f1"))

	status, _, body = fetch(t, http.MethodPut, u, swapped, hdr)
	require.True(t, status < 500, "a PUT after the move: %d %s", status, body)
	got, info := readObject(t, s, "upload/final/f1")
	requireBytes(t, checked, got, "the moved object is unchanged by a later PUT to the staging key")
	assert.Equal(t, "image/png", info.ContentType)

	require.NoError(t, s.Delete(t.Context(), "upload/final/f1"))
	status, _, body = fetch(t, http.MethodPut, u, swapped, hdr)
	require.True(t, status < 500, "a PUT after the delete: %d %s", status, body)
	requireAbsent(t, s, "upload/final/f1")
	for _, k := range allKeys(t, s, "upload/", 0) {
		assert.Equal(t, "upload/staging/f1", k, "a PUT writes only the key it was signed for")
	}
}
