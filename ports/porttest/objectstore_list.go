package porttest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// listFixture is a layout where byte order and directory order disagree
// ("a.b" sorts before "a/b"), and where one prefix is a string prefix of
// another ("shops/ab" and "shops/abc"). No key is the "directory" of
// another (see ports.ObjectStore).
var listFixture = []string{
	"list/a.b", "list/a/b", "list/a/c", "list/ab", "list/b/x",
	"list.other", "other/list/a", "shops/ab/f", "shops/abc/f",
}

func testObjectList(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	for i, key := range listFixture {
		putObject(t, s, key, payload(uint64(i), i+1), "text/plain")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"list.other", "list/a.b", "list/a/b", "list/a/c", "list/ab", "list/b/x", "other/list/a", "shops/ab/f", "shops/abc/f"}},
		{"list/", []string{"list/a.b", "list/a/b", "list/a/c", "list/ab", "list/b/x"}},
		{"list", []string{"list.other", "list/a.b", "list/a/b", "list/a/c", "list/ab", "list/b/x"}},
		{"list/a", []string{"list/a.b", "list/a/b", "list/a/c", "list/ab"}},
		{"list/a/", []string{"list/a/b", "list/a/c"}},
		{"list/b/x", []string{"list/b/x"}},
		{"shops/ab/", []string{"shops/ab/f"}}, // not shops/abc/
		{"shops/ab", []string{"shops/ab/f", "shops/abc/f"}},
		{"nothing/", nil},
		{"list/a/b/", nil}, // an object is not a directory
		{"lis", []string{"list.other", "list/a.b", "list/a/b", "list/a/c", "list/ab", "list/b/x"}},
	}
	for _, tt := range tests {
		page, err := s.List(t.Context(), tt.prefix, "", 0)
		require.NoError(t, err, "prefix %q", tt.prefix)
		assert.Empty(t, page.NextPageToken, "prefix %q fits one page", tt.prefix)
		var got []string
		for _, o := range page.Objects {
			got = append(got, o.Key)
		}
		assert.Equal(t, tt.want, got, "prefix %q", tt.prefix)
	}

	page, err := s.List(t.Context(), "list/a/", "", 0)
	require.NoError(t, err)
	require.Len(t, page.Objects, 2)
	o := page.Objects[0]
	assert.Equal(t, int64(2), o.Size, "list/a/b is the fixture's second object")
	assert.NotEmpty(t, o.ETag)
	assert.False(t, o.ModTime.IsZero())
	st, err := s.Stat(t.Context(), "list/a/b")
	require.NoError(t, err)
	assert.Equal(t, st.ETag, o.ETag, "List and Stat agree on the ETag")
	assert.Equal(t, st.Size, o.Size)
}

func testObjectListPaging(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	var want []string
	for i := range 7 {
		key := "page/" + string(rune('a'+i)) + "/obj"
		want = append(want, key)
		putObject(t, s, key, []byte{byte(i)}, "")
	}
	putObject(t, s, "pagf/not-listed", []byte("x"), "")
	for _, size := range []int{1, 2, 3, 6, 7, 8, 0, -1, ports.MaxListPageSize + 1} {
		assert.Equal(t, want, allKeys(t, s, "page/", size), "page size %d", size)
	}

	first, err := s.List(t.Context(), "page/", "", 3)
	require.NoError(t, err)
	require.Len(t, first.Objects, 3)
	require.NotEmpty(t, first.NextPageToken)
	// Writes while paging: a key before the cursor is not returned, and no
	// object present throughout is skipped or repeated.
	putObject(t, s, "page/0-before-cursor", []byte("x"), "")
	require.NoError(t, s.Delete(t.Context(), "page/g/obj"))
	rest := allKeysFrom(t, s, "page/", first.NextPageToken, 3)
	assert.Equal(t, want[3:6], rest)

	for _, token := range []string{"!!not a token!!", "\x00"} {
		_, err := s.List(t.Context(), "page/", token, 3)
		require.ErrorIs(t, err, ports.ErrInvalid, "token %q", token)
	}
}

// allKeysFrom lists keys under prefix starting at token.
func allKeysFrom(t *testing.T, s ports.ObjectStore, prefix, token string, pageSize int) []string {
	t.Helper()
	var keys []string
	for range 1000 {
		page, err := s.List(t.Context(), prefix, token, pageSize)
		require.NoError(t, err)
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		if page.NextPageToken == "" {
			return keys
		}
		token = page.NextPageToken
	}
	require.FailNow(t, "List never ended")
	return nil
}
