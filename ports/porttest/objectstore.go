package porttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// ObjectStoreHarness returns a fresh, empty object store for one test. The
// store must read the time from clock wherever it would call time.Now for
// signed URLs: when it signs them and, if it verifies them itself, when it
// verifies them. The suite moves clock to issue URLs in the past. Signed
// URLs must be fetchable with http.DefaultClient (a harness for a store
// that serves its own URLs starts a server, e.g. with httptest). The
// harness registers its own cleanup.
type ObjectStoreHarness func(t *testing.T, clock ports.Clock) ports.ObjectStore

// TestObjectStore runs the ports.ObjectStore conformance suite: round trips
// from 0 bytes to several MiB, range reads, overwrite, delete, move,
// listing with prefixes and pages, the key rules, size lies, cancellation,
// concurrent writers, and signed URLs fetched over plain HTTP, which it
// also attacks (expired, tampered — every option included — re-targeted,
// method-swapped, stripped, and a PUT after its object was moved away). Subtests run
// in parallel, each on its own store.
func TestObjectStore(t *testing.T, newStore ObjectStoreHarness) {
	run := func(name string, fn func(t *testing.T, s ports.ObjectStore, clock *ShiftClock)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := &ShiftClock{}
			fn(t, newStore(t, clock), clock)
		})
	}
	run("RoundTrip", testObjectRoundTrip)
	run("ContentType", testObjectContentType)
	run("RangeReads", testObjectRanges)
	run("Overwrite", testObjectOverwrite)
	run("Delete", testObjectDelete)
	run("Missing", testObjectMissing)
	run("BadKeys", testObjectBadKeys)
	run("SizeLie", testObjectSizeLie)
	run("ReadError", testObjectReadError)
	run("Cancelled", testObjectCancelled)
	run("ConcurrentWriters", testObjectConcurrentWriters)
	run("List", testObjectList)
	run("ListPaging", testObjectListPaging)
	run("SignedGet", testSignedGet)
	run("SignedPut", testSignedPut)
	run("SignedURLArguments", testSignedURLArguments)
	run("SignedURLExpired", testSignedURLExpired)
	run("SignedURLTampered", testSignedURLTampered)
	run("Move", testObjectMove)
	run("SignedPutAfterMove", testSignedPutAfterMove)
}

// ShiftClock is the wall clock moved by an offset: Now returns
// time.Now().Add(offset). Unlike a frozen clock it suits stores whose
// signed URLs are verified by a server reading its own wall clock (S3),
// and it is safe for concurrent use.
type ShiftClock struct {
	offset atomic.Int64 // nanoseconds
}

// Now returns the wall clock plus the offset.
func (c *ShiftClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Shift sets the offset (0 = the wall clock again).
func (c *ShiftClock) Shift(d time.Duration) { c.offset.Store(int64(d)) }

// payload returns n deterministic pseudo-random bytes for seed.
func payload(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// putObject stores data under key and requires success.
func putObject(t *testing.T, s ports.ObjectStore, key string, data []byte, contentType string) {
	t.Helper()
	require.NoError(t, s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), contentType), "put %q", key)
}

// readObject reads key whole, requires success, and checks that Get's
// ObjectInfo agrees with Stat's.
func readObject(t *testing.T, s ports.ObjectStore, key string) ([]byte, ports.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key, 0, -1)
	require.NoError(t, err, "get %q", key)
	data, err := io.ReadAll(rc)
	require.NoError(t, err, "read %q", key)
	require.NoError(t, rc.Close())
	st, err := s.Stat(t.Context(), key)
	require.NoError(t, err, "stat %q", key)
	assert.Equal(t, st.Size, info.Size, "Get and Stat sizes of %q", key)
	assert.Equal(t, st.ETag, info.ETag, "Get and Stat ETags of %q", key)
	assert.Equal(t, st.ContentType, info.ContentType, "Get and Stat content types of %q", key)
	return data, info
}

// requireAbsent checks that key does not exist, through both Stat and Get.
func requireAbsent(t *testing.T, s ports.ObjectStore, key string) {
	t.Helper()
	_, err := s.Stat(context.Background(), key)
	require.ErrorIs(t, err, ports.ErrNotFound, "stat %q", key)
	rc, _, err := s.Get(context.Background(), key, 0, -1)
	if rc != nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, ports.ErrNotFound, "get %q", key)
}

// requireBytes checks got against want without printing megabytes.
func requireBytes(t *testing.T, want, got []byte, msgAndArgs ...any) {
	t.Helper()
	if !bytes.Equal(want, got) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		require.Failf(t, "bytes differ", "want %d bytes, got %d; first difference at offset %d. %v", len(want), len(got), i, msgAndArgs)
	}
}

// allKeys lists every key under prefix, page by page.
func allKeys(t *testing.T, s ports.ObjectStore, prefix string, pageSize int) []string {
	t.Helper()
	var keys []string
	token := ""
	for range 10000 {
		page, err := s.List(t.Context(), prefix, token, pageSize)
		require.NoError(t, err)
		if pageSize > 0 {
			require.LessOrEqual(t, len(page.Objects), pageSize, "page larger than asked")
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		if page.NextPageToken == "" {
			return keys
		}
		require.NotEmpty(t, page.Objects, "a page with a next token must not be empty")
		token = page.NextPageToken
	}
	require.FailNow(t, "List never ended")
	return nil
}
