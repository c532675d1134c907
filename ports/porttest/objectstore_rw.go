package porttest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func testObjectRoundTrip(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	tests := []struct {
		name string
		key  string
		size int
		ct   string
	}{
		{"empty", "rt/empty", 0, "text/plain"},
		{"one byte", "rt/one", 1, "application/octet-stream"},
		{"small", "rt/dir/small.json", 1000, "application/json"},
		{"several MiB", "rt/big.bin", 5<<20 + 17, "application/octet-stream"},
		{"odd characters", "rt/sub dir/ünïcødé +%25&?=#;,'.txt", 33, "text/plain; charset=utf-8"},
		{"deep", "rt/" + strings.Repeat("d/", 100) + "leaf", 10, "text/plain"},
		{"longest key", "rt/" + strings.Repeat(strings.Repeat("k", 200)+"/", 4) + strings.Repeat("z", ports.MaxObjectKeyLen-3-4*201), 10, "text/plain"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, ports.ValidateObjectKey(tt.key), "the test key itself")
			want := payload(uint64(i), tt.size)
			before := time.Now()
			putObject(t, s, tt.key, want, tt.ct)
			got, info := readObject(t, s, tt.key)
			requireBytes(t, want, got)
			assert.Equal(t, tt.key, info.Key)
			assert.Equal(t, int64(tt.size), info.Size)
			assert.Equal(t, tt.ct, info.ContentType)
			assert.NotEmpty(t, info.ETag)
			assert.NotContains(t, info.ETag, `"`, "ETag without quotes")
			assert.Equal(t, time.UTC, info.ModTime.Location())
			assert.WithinDuration(t, before, info.ModTime, time.Minute)
		})
	}
}

func testObjectContentType(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	putObject(t, s, "ct/default", []byte("x"), "")
	_, info := readObject(t, s, "ct/default")
	assert.Equal(t, ports.DefaultContentType, info.ContentType)

	for _, bad := range []string{"not a type", "text/html\r\nX-Evil: 1", "text/plain; charset=\x00"} {
		err := s.Put(t.Context(), "ct/bad", strings.NewReader("x"), 1, bad)
		require.ErrorIs(t, err, ports.ErrInvalid, "content type %q", bad)
	}
	requireAbsent(t, s, "ct/bad")
}

func testObjectRanges(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	data := payload(7, 1000)
	putObject(t, s, "range/obj", data, "application/octet-stream")
	putObject(t, s, "range/empty", nil, "text/plain")
	tests := []struct {
		key            string
		offset, length int64
		want           []byte
	}{
		{"range/obj", 0, -1, data},
		{"range/obj", 0, 10, data[:10]},
		{"range/obj", 10, 1, data[10:11]},
		{"range/obj", 500, -1, data[500:]},
		{"range/obj", 990, 100, data[990:]}, // cut at the end
		{"range/obj", 999, 1, data[999:]},
		{"range/obj", 1000, -1, nil}, // offset at the end reads nothing
		{"range/obj", 1000, 5, nil},
		{"range/obj", 500, 0, nil},
		{"range/empty", 0, -1, nil},
		{"range/empty", 0, 10, nil},
	}
	for _, tt := range tests {
		rc, info, err := s.Get(t.Context(), tt.key, tt.offset, tt.length)
		require.NoError(t, err, "%s [%d,%d)", tt.key, tt.offset, tt.length)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		requireBytes(t, tt.want, got, tt.key, tt.offset, tt.length)
		assert.Equal(t, tt.key, info.Key)
		assert.Equal(t, int64(len(map[string][]byte{"range/obj": data, "range/empty": nil}[tt.key])), info.Size, "info describes the whole object")
	}
	for _, bad := range [][2]int64{{1001, -1}, {-1, 5}, {0, -2}, {2000, 1}} {
		rc, _, err := s.Get(t.Context(), "range/obj", bad[0], bad[1])
		if rc != nil {
			_ = rc.Close()
		}
		require.ErrorIs(t, err, ports.ErrInvalid, "offset %d length %d", bad[0], bad[1])
	}
}

func testObjectOverwrite(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	first, second := payload(1, 3000), payload(2, 100)
	putObject(t, s, "ow/key", first, "application/octet-stream")
	_, info1 := readObject(t, s, "ow/key")
	putObject(t, s, "ow/key", second, "text/plain")
	got, info2 := readObject(t, s, "ow/key")
	requireBytes(t, second, got)
	assert.Equal(t, int64(100), info2.Size)
	assert.Equal(t, "text/plain", info2.ContentType)
	assert.NotEqual(t, info1.ETag, info2.ETag, "a new version has a new ETag")
	assert.Equal(t, []string{"ow/key"}, allKeys(t, s, "", 0), "an overwrite leaves one object")
}

func testObjectDelete(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	putObject(t, s, "del/a", []byte("a"), "")
	putObject(t, s, "del/ab", []byte("ab"), "")
	putObject(t, s, "del/x/y", []byte("xy"), "")

	require.NoError(t, s.Delete(t.Context(), "del/a"))
	requireAbsent(t, s, "del/a")
	assert.Equal(t, []string{"del/ab", "del/x/y"}, allKeys(t, s, "del/", 0), "deleting a key deletes nothing that merely starts with it")

	require.NoError(t, s.Delete(t.Context(), "del/a"), "deleting again is not an error")
	require.NoError(t, s.Delete(t.Context(), "del/never/existed"), "deleting a missing key is not an error")
	require.NoError(t, s.Delete(t.Context(), "del/x"), "deleting a \"directory\" deletes nothing")
	assert.Equal(t, []string{"del/ab", "del/x/y"}, allKeys(t, s, "del/", 0))

	require.NoError(t, s.Delete(t.Context(), "del/x/y"))
	require.NoError(t, s.Delete(t.Context(), "del/ab"))
	assert.Empty(t, allKeys(t, s, "", 0))
	putObject(t, s, "del/x/y", []byte("again"), "")
	got, _ := readObject(t, s, "del/x/y")
	assert.Equal(t, []byte("again"), got, "a deleted key can be written again")
}

func testObjectMissing(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	requireAbsent(t, s, "missing/key")
	rc, _, err := s.Get(t.Context(), "missing/key", 5, 10)
	if rc != nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, ports.ErrNotFound, "a ranged read of a missing key")
	putObject(t, s, "missing/dir/child", []byte("x"), "")
	requireAbsent(t, s, "missing/dir") // a "directory" is not an object
	requireAbsent(t, s, "missing/dir/chil")
}

func testObjectBadKeys(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	ctx := t.Context()
	bad := []string{
		"", "../x", "a/../../b", "/abs", "a//b", "a/./b", ".", "..", "a/", "a/..",
		"nul\x00byte", "tab\tchar", "del\x7fchar", `back\slash`, `..\..\windows`,
		"bad\xffutf8", strings.Repeat("a", ports.MaxObjectKeyLen+1),
		strings.Repeat("s", ports.MaxObjectKeySegment+1),
	}
	for _, key := range bad {
		require.ErrorIs(t, s.Put(ctx, key, strings.NewReader("x"), 1, ""), ports.ErrInvalid, "Put %q", key)
		rc, _, err := s.Get(ctx, key, 0, -1)
		if rc != nil {
			_ = rc.Close()
		}
		require.ErrorIs(t, err, ports.ErrInvalid, "Get %q", key)
		_, err = s.Stat(ctx, key)
		require.ErrorIs(t, err, ports.ErrInvalid, "Stat %q", key)
		require.ErrorIs(t, s.Delete(ctx, key), ports.ErrInvalid, "Delete %q", key)
		_, err = s.SignedURL(ctx, "GET", key, time.Minute, ports.SignedURLOptions{})
		require.ErrorIs(t, err, ports.ErrInvalid, "SignedURL %q", key)
	}
	for _, prefix := range []string{"../", "/abs", "a/../../b/", "a//", `a\b`, "a\x00", "./x"} {
		_, err := s.List(ctx, prefix, "", 0)
		require.ErrorIs(t, err, ports.ErrInvalid, "List %q", prefix)
	}
	assert.Empty(t, allKeys(t, s, "", 0), "refused keys left nothing behind")
}

func testObjectSizeLie(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	old := []byte("the old version")
	putObject(t, s, "lie/existing", old, "text/plain")
	tests := []struct {
		name     string
		declared int64
		actual   int
	}{
		{"shorter", 100, 99},
		{"longer", 100, 101},
		{"empty body", 10, 0},
		{"declared empty", 0, 1},
		{"MiB longer", 1 << 20, 1<<20 + 1},
		{"MiB shorter", 1<<20 + 1, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := payload(3, tt.actual)
			err := s.Put(t.Context(), "lie/new", bytes.NewReader(body), tt.declared, "")
			require.ErrorIs(t, err, ports.ErrInvalid)
			requireAbsent(t, s, "lie/new")
			err = s.Put(t.Context(), "lie/existing", bytes.NewReader(body), tt.declared, "")
			require.ErrorIs(t, err, ports.ErrInvalid)
			got, _ := readObject(t, s, "lie/existing")
			assert.Equal(t, old, got, "a refused overwrite keeps the old version")
		})
	}
	err := s.Put(t.Context(), "lie/negative", strings.NewReader(""), -1, "")
	require.ErrorIs(t, err, ports.ErrInvalid, "a negative size")
	assert.Equal(t, []string{"lie/existing"}, allKeys(t, s, "", 0))
}

// failingReader yields n bytes of zeros, then err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	n := min(len(p), r.n)
	clear(p[:n])
	r.n -= n
	return n, nil
}

func testObjectReadError(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	boom := io.ErrClosedPipe
	err := s.Put(t.Context(), "rerr/key", &failingReader{n: 1000, err: boom}, 5000, "")
	require.ErrorIs(t, err, boom, "the reader's error is returned wrapped")
	requireAbsent(t, s, "rerr/key")
}
