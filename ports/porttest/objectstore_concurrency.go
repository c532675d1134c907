package porttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// cancellingReader yields zeros and cancels its context after the first
// read, so an upload is cut off mid-body.
type cancellingReader struct {
	cancel context.CancelFunc
	n      int
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n, 32<<10)
	clear(p[:n])
	r.n -= n
	r.cancel()
	return n, nil
}

func testObjectCancelled(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	putObject(t, s, "cancel/existing", []byte("old"), "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := s.Put(ctx, "cancel/new", strings.NewReader("x"), 1, "")
	require.ErrorIs(t, err, context.Canceled, "Put")
	rc, _, err := s.Get(ctx, "cancel/existing", 0, -1)
	if rc != nil {
		_ = rc.Close()
	}
	require.ErrorIs(t, err, context.Canceled, "Get")
	_, err = s.Stat(ctx, "cancel/existing")
	require.ErrorIs(t, err, context.Canceled, "Stat")
	require.ErrorIs(t, s.Delete(ctx, "cancel/existing"), context.Canceled, "Delete")
	_, err = s.List(ctx, "", "", 0)
	require.ErrorIs(t, err, context.Canceled, "List")
	requireAbsent(t, s, "cancel/new")
	got, _ := readObject(t, s, "cancel/existing")
	assert.Equal(t, []byte("old"), got, "a cancelled Delete deleted nothing")

	// Cancelled in the middle of the body: nothing may be published.
	for _, key := range []string{"cancel/mid", "cancel/existing"} {
		const size = 4 << 20
		ctx, cancel := context.WithCancel(t.Context())
		err = s.Put(ctx, key, &cancellingReader{cancel: cancel, n: size}, size, "")
		cancel()
		require.ErrorIs(t, err, context.Canceled, "Put cancelled mid-body of %q", key)
	}
	requireAbsent(t, s, "cancel/mid")
	got, _ = readObject(t, s, "cancel/existing")
	assert.Equal(t, []byte("old"), got, "a cancelled overwrite keeps the old version")
}

// testObjectConcurrentWriters races writers of differently sized versions
// of one key against readers: every read must return one version whole.
func testObjectConcurrentWriters(t *testing.T, s ports.ObjectStore, _ *ShiftClock) {
	const writers, rounds, readers = 4, 5, 4
	version := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 64<<10+w*4099) }
	putObject(t, s, "race/key", version(0), "")

	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds+readers*rounds*2)
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				data := version(w)
				if err := s.Put(context.Background(), "race/key", bytes.NewReader(data), int64(len(data)), ""); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for range rounds * 2 {
				if err := readWholeVersion(s, "race/key", version); err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, readWholeVersion(s, "race/key", version))
	assert.Equal(t, []string{"race/key"}, allKeys(t, s, "", 0), "racing writers leave one object")
}

// readWholeVersion reads key and checks it is exactly one of the versions.
func readWholeVersion(s ports.ObjectStore, key string, version func(int) []byte) error {
	rc, info, err := s.Get(context.Background(), key, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("read an empty object")
	}
	w := int(data[0] - 'a')
	if w < 0 || w > 25 || !bytes.Equal(data, version(w)) {
		return fmt.Errorf("read %d bytes that are no whole version (first byte %q)", len(data), data[0])
	}
	if info.Size != int64(len(data)) {
		return fmt.Errorf("ObjectInfo.Size %d describes another version than the %d bytes read", info.Size, len(data))
	}
	return nil
}
