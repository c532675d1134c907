package ports_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func TestValidateObjectKey(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"a", true},
		{"shops/0190/files/0191", true},
		{"with space/ünï+%25&?#.txt", true},
		{"..a/b..", true},
		{".hidden/x", true},
		{strings.Repeat("a", ports.MaxObjectKeySegment), true},
		{strings.Repeat("ab/", 341) + "x", true}, // 1024 bytes
		{strings.Repeat("ab/", 341) + "xy", false},
		{strings.Repeat("a", ports.MaxObjectKeySegment+1), false},
		{"", false}, {"/a", false}, {"a/", false}, {"a//b", false},
		{".", false}, {"..", false}, {"../a", false}, {"a/../b", false}, {"a/./b", false}, {"a/..", false},
		{`a\b`, false}, {"a\x00b", false}, {"a\nb", false}, {"a\x7fb", false}, {"a\u0085b", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		err := ports.ValidateObjectKey(tt.give)
		if tt.ok {
			assert.NoError(t, err, "%q", tt.give)
		} else {
			assert.ErrorIs(t, err, ports.ErrInvalid, "%q", tt.give)
		}
	}
}

func TestValidateObjectPrefix(t *testing.T) {
	for _, ok := range []string{"", "a", "a/", "a/b", "a/b/", "shops/01", "a/..b", "a/.", "a/.."} {
		assert.NoError(t, ports.ValidateObjectPrefix(ok), "%q", ok)
	}
	for _, bad := range []string{"/", "/a", "../", "a/../", "a//", "a/./b", `a\`, "a\x00", "./"} {
		assert.ErrorIs(t, ports.ValidateObjectPrefix(bad), ports.ErrInvalid, "%q", bad)
	}
}

func TestObjectPageToken(t *testing.T) {
	tok := ports.ObjectPageToken("a/b c")
	got, err := ports.ParseObjectPageToken("a/", tok)
	require.NoError(t, err)
	assert.Equal(t, "a/b c", got)
	_, err = ports.ParseObjectPageToken("b/", tok)
	assert.ErrorIs(t, err, ports.ErrInvalid, "a token of another prefix")
	_, err = ports.ParseObjectPageToken("", ports.ObjectPageToken("../x"))
	assert.ErrorIs(t, err, ports.ErrInvalid, "a token naming a bad key")
	got, err = ports.ParseObjectPageToken("a/", "")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestExactReader(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		size    int64
		wantErr bool
	}{
		{"exact", "hello", 5, false},
		{"empty", "", 0, false},
		{"short", "hell", 5, true},
		{"long", "hello!", 5, true},
		{"long from empty", "x", 0, true},
	}
	for _, tt := range tests {
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			iotest.OneByteReader,
			iotest.DataErrReader,
		} {
			e := &ports.ExactReader{R: wrap(strings.NewReader(tt.body)), Size: tt.size}
			got, err := io.ReadAll(e)
			if tt.wantErr {
				assert.ErrorIs(t, err, ports.ErrInvalid, tt.name)
				assert.ErrorIs(t, e.Err(), ports.ErrInvalid, tt.name)
				assert.Less(t, int64(len(got)), tt.size+1, "%s: never more than size", tt.name)
				assert.False(t, e.Complete())
				continue
			}
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.body, string(got))
			assert.True(t, e.Complete(), tt.name)
		}
	}
	// A longer body never delivers its declared size in full, so an upload
	// reading exactly size bytes cannot complete.
	e := &ports.ExactReader{R: bytes.NewReader(make([]byte, 1001)), Size: 1000}
	n, err := io.CopyN(io.Discard, e, 1000)
	assert.Less(t, n, int64(1000))
	assert.ErrorIs(t, err, ports.ErrInvalid)

	boom := iotest.ErrReader(io.ErrClosedPipe)
	_, err = io.ReadAll(&ports.ExactReader{R: boom, Size: 3})
	assert.ErrorIs(t, err, io.ErrClosedPipe)
}

func TestNormalizeContentType(t *testing.T) {
	ct, err := ports.NormalizeContentType("")
	require.NoError(t, err)
	assert.Equal(t, ports.DefaultContentType, ct)
	ct, err = ports.NormalizeContentType("text/plain; charset=utf-8")
	require.NoError(t, err)
	assert.Equal(t, "text/plain; charset=utf-8", ct)
	for _, bad := range []string{"nope", "text/html\r\nX: y", "text/plain; a=\x00", strings.Repeat("a", 250) + "/plain"} {
		_, err := ports.NormalizeContentType(bad)
		assert.ErrorIs(t, err, ports.ErrInvalid, "%q", bad)
	}
}
