package porttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// KeyManagerHarness describes a key manager under test.
type KeyManagerHarness struct {
	// New returns a fresh, empty key manager for one test and registers
	// its own cleanup.
	New func(t *testing.T) ports.KeyManager
	// KEKVersion returns the KEK version a blob names, in the adapter's
	// own notation (the blob format is the adapter's). The suite only
	// compares versions for equality; it proves that rotation takes effect
	// and that concurrent first uses share one KEK.
	KEKVersion func(wrapped []byte) (string, error)
}

// TestKeyManager runs the ports.KeyManager conformance suite: round trips
// for every allowed data-key length, refusal of bad input, blobs presented
// as another shop's, every single-byte alteration of a blob, rotation
// (old blobs still unwrap, new ones name the new version), destruction
// (ErrNotFound for every earlier blob, also once WrapKey has created new
// keys; other shops untouched), cancellation, concurrent first use of a
// shop (one KEK) and rotation racing wraps (no blob lost). Subtests run in
// parallel, each on its own manager.
func TestKeyManager(t *testing.T, h KeyManagerHarness) {
	require.NotNil(t, h.New, "the harness must set New")
	require.NotNil(t, h.KEKVersion, "the harness must set KEKVersion")
	run := func(name string, fn func(t *testing.T, h KeyManagerHarness, km ports.KeyManager)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, h, h.New(t))
		})
	}
	run("RoundTrip", testKMRoundTrip)
	run("BadInput", testKMBadInput)
	run("WrongShop", testKMWrongShop)
	run("Tamper", testKMTamper)
	run("Rotate", testKMRotate)
	run("RotateCreatesFirstKey", testKMRotateFirst)
	run("Destroy", testKMDestroy)
	run("Cancelled", testKMCancelled)
	run("ConcurrentFirstUse", testKMConcurrentFirstUse)
	run("RotateRacingWraps", testKMRotateRacingWraps)
}

func dataKey(t *testing.T, n int) []byte {
	t.Helper()
	k := make([]byte, n)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func wrap(t *testing.T, km ports.KeyManager, shop ports.ShopID, key []byte) []byte {
	t.Helper()
	blob, err := km.WrapKey(context.Background(), shop, key)
	require.NoError(t, err)
	require.NotEmpty(t, blob)
	return blob
}

func requireUnwraps(t *testing.T, km ports.KeyManager, shop ports.ShopID, blob, want []byte) {
	t.Helper()
	got, err := km.UnwrapKey(context.Background(), shop, blob)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func kekVersion(t *testing.T, h KeyManagerHarness, blob []byte) string {
	t.Helper()
	v, err := h.KEKVersion(blob)
	require.NoError(t, err)
	return v
}

func testKMRoundTrip(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	shop := ports.NewShopID()
	for _, n := range []int{ports.MinDataKeyLen, 32, ports.MaxDataKeyLen} {
		key := dataKey(t, n)
		blob := wrap(t, km, shop, key)
		assert.False(t, bytes.Contains(blob, key), "a blob must not contain its data key in clear")
		requireUnwraps(t, km, shop, blob, key)
		again := wrap(t, km, shop, key)
		assert.NotEqual(t, blob, again, "wrapping one key twice must give different blobs")
		requireUnwraps(t, km, shop, again, key)
	}
	// The caller may reuse its slices: the manager must not keep them.
	key := dataKey(t, 32)
	want := bytes.Clone(key)
	blob := wrap(t, km, shop, key)
	clear(key)
	got, err := km.UnwrapKey(context.Background(), shop, blob)
	require.NoError(t, err)
	require.Equal(t, want, got)
	clear(got)
	requireUnwraps(t, km, shop, blob, want)
}

func testKMBadInput(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	ctx := context.Background()
	var zero ports.ShopID
	_, err := km.WrapKey(ctx, zero, dataKey(t, 32))
	assert.ErrorIs(t, err, ports.ErrInvalid, "WrapKey with a zero shop")
	_, err = km.UnwrapKey(ctx, zero, []byte("blob"))
	assert.ErrorIs(t, err, ports.ErrInvalid, "UnwrapKey with a zero shop")
	assert.ErrorIs(t, km.RotateKey(ctx, zero), ports.ErrInvalid, "RotateKey with a zero shop")
	assert.ErrorIs(t, km.DestroyKeys(ctx, zero), ports.ErrInvalid, "DestroyKeys with a zero shop")

	shop := ports.NewShopID()
	for _, n := range []int{0, 1, ports.MinDataKeyLen - 1, ports.MaxDataKeyLen + 1, 4096} {
		_, err := km.WrapKey(ctx, shop, make([]byte, n))
		assert.ErrorIs(t, err, ports.ErrInvalid, "a %d-byte data key", n)
	}
	wrap(t, km, shop, dataKey(t, 32))
	fresh := ports.NewShopID()
	for _, s := range []ports.ShopID{shop, fresh} {
		for _, blob := range [][]byte{nil, {}, {0}, []byte("not a wrapped key at all"), dataKey(t, 200)} {
			_, err := km.UnwrapKey(ctx, s, blob)
			assert.ErrorIs(t, err, ports.ErrInvalid, "malformed blob %x", blob)
		}
	}
}

func testKMWrongShop(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	ctx := context.Background()
	a, b, c := ports.NewShopID(), ports.NewShopID(), ports.NewShopID()
	key := dataKey(t, 32)
	blobA := wrap(t, km, a, key)
	wrap(t, km, b, dataKey(t, 32)) // b has keys of its own; c has none
	for _, s := range []ports.ShopID{b, c} {
		got, err := km.UnwrapKey(ctx, s, blobA)
		assert.ErrorIs(t, err, ports.ErrInvalid, "shop A's blob presented as another shop's")
		assert.Nil(t, got)
	}
	requireUnwraps(t, km, a, blobA, key)
}

func testKMTamper(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	ctx := context.Background()
	shop := ports.NewShopID()
	key := dataKey(t, 32)
	blob := wrap(t, km, shop, key)
	try := func(what string, bad []byte) {
		t.Helper()
		got, err := km.UnwrapKey(ctx, shop, bad)
		assert.ErrorIs(t, err, ports.ErrInvalid, what)
		assert.Nil(t, got, what)
	}
	for i := range blob {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(blob)
			bad[i] ^= mask
			try(fmt.Sprintf("byte %d ^ %#x", i, mask), bad)
		}
	}
	try("last byte cut", blob[:len(blob)-1])
	try("cut in half", blob[:len(blob)/2])
	try("byte appended", append(bytes.Clone(blob), 0))
	requireUnwraps(t, km, shop, blob, key)
}

func testKMRotate(t *testing.T, h KeyManagerHarness, km ports.KeyManager) {
	ctx := context.Background()
	shop := ports.NewShopID()
	k1, k2, k3 := dataKey(t, 32), dataKey(t, 32), dataKey(t, 32)
	b1 := wrap(t, km, shop, k1)
	v1 := kekVersion(t, h, b1)
	assert.Equal(t, v1, kekVersion(t, h, wrap(t, km, shop, k1)), "without rotation WrapKey keeps one version")

	require.NoError(t, km.RotateKey(ctx, shop))
	b2 := wrap(t, km, shop, k2)
	v2 := kekVersion(t, h, b2)
	assert.NotEqual(t, v1, v2, "after RotateKey, WrapKey uses the new version")

	require.NoError(t, km.RotateKey(ctx, shop))
	b3 := wrap(t, km, shop, k3)
	v3 := kekVersion(t, h, b3)
	assert.NotEqual(t, v1, v3)
	assert.NotEqual(t, v2, v3)
	assert.Equal(t, v3, kekVersion(t, h, wrap(t, km, shop, k3)))

	requireUnwraps(t, km, shop, b1, k1)
	requireUnwraps(t, km, shop, b2, k2)
	requireUnwraps(t, km, shop, b3, k3)
}

func testKMRotateFirst(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	shop := ports.NewShopID()
	require.NoError(t, km.RotateKey(context.Background(), shop))
	key := dataKey(t, 32)
	requireUnwraps(t, km, shop, wrap(t, km, shop, key), key)
}

func testKMDestroy(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	ctx := context.Background()
	shop, other := ports.NewShopID(), ports.NewShopID()
	k1, k2, ko := dataKey(t, 32), dataKey(t, 32), dataKey(t, 32)
	b1 := wrap(t, km, shop, k1)
	require.NoError(t, km.RotateKey(ctx, shop))
	b2 := wrap(t, km, shop, k2)
	bo := wrap(t, km, other, ko)

	require.NoError(t, km.DestroyKeys(ctx, shop))
	requireDestroyed := func(what string) {
		t.Helper()
		for _, b := range [][]byte{b1, b2} {
			got, err := km.UnwrapKey(ctx, shop, b)
			require.ErrorIs(t, err, ports.ErrNotFound, what)
			assert.Contains(t, err.Error(), "key destroyed", what)
			assert.Nil(t, got, what)
		}
	}
	requireDestroyed("after DestroyKeys")
	require.NoError(t, km.DestroyKeys(ctx, shop), "DestroyKeys is idempotent")
	require.NoError(t, km.DestroyKeys(ctx, ports.NewShopID()), "destroying a shop without keys")
	requireUnwraps(t, km, other, bo, ko)

	// A new KEK after destruction serves new blobs only.
	k3 := dataKey(t, 32)
	b3 := wrap(t, km, shop, k3)
	requireUnwraps(t, km, shop, b3, k3)
	requireDestroyed("after a new KEK was created")
	require.NoError(t, km.RotateKey(ctx, shop))
	requireDestroyed("after the new KEK was rotated")
	requireUnwraps(t, km, shop, b3, k3)
}

func testKMCancelled(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	shop := ports.NewShopID()
	key := dataKey(t, 32)
	blob := wrap(t, km, shop, key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := km.WrapKey(ctx, shop, key)
	assert.ErrorIs(t, err, context.Canceled, "WrapKey")
	_, err = km.WrapKey(ctx, ports.NewShopID(), key)
	assert.ErrorIs(t, err, context.Canceled, "WrapKey for a new shop")
	_, err = km.UnwrapKey(ctx, shop, blob)
	assert.ErrorIs(t, err, context.Canceled, "UnwrapKey")
	v, err := km.WrapKey(context.Background(), shop, key)
	require.NoError(t, err)
	assert.ErrorIs(t, km.RotateKey(ctx, shop), context.Canceled, "RotateKey")
	assert.ErrorIs(t, km.DestroyKeys(ctx, shop), context.Canceled, "DestroyKeys")
	requireUnwraps(t, km, shop, blob, key) // a cancelled DestroyKeys destroyed nothing
	requireUnwraps(t, km, shop, v, key)
}

func testKMConcurrentFirstUse(t *testing.T, h KeyManagerHarness, km ports.KeyManager) {
	shop := ports.NewShopID()
	const workers = 16
	keys := make([][]byte, workers)
	blobs := make([][]byte, workers)
	errs := make([]error, workers)
	for i := range keys {
		keys[i] = dataKey(t, 32)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			blobs[i], errs[i] = km.WrapKey(context.Background(), shop, keys[i])
		})
	}
	close(start)
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i])
	}
	v0 := kekVersion(t, h, blobs[0])
	for i := range workers {
		assert.Equal(t, v0, kekVersion(t, h, blobs[i]), "concurrent first uses must share one KEK")
		requireUnwraps(t, km, shop, blobs[i], keys[i])
	}
}

func testKMRotateRacingWraps(t *testing.T, _ KeyManagerHarness, km ports.KeyManager) {
	shop := ports.NewShopID()
	wrap(t, km, shop, dataKey(t, 32))
	const wrappers, each, rotators = 6, 8, 3
	keys := make([][]byte, wrappers*each)
	blobs := make([][]byte, wrappers*each)
	errs := make([]error, wrappers*each+rotators)
	for i := range keys {
		keys[i] = dataKey(t, 32)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range wrappers {
		wg.Go(func() {
			<-start
			for j := range each {
				i := w*each + j
				blobs[i], errs[i] = km.WrapKey(context.Background(), shop, keys[i])
			}
		})
	}
	for r := range rotators {
		wg.Go(func() {
			<-start
			errs[wrappers*each+r] = km.RotateKey(context.Background(), shop)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	for i := range blobs {
		requireUnwraps(t, km, shop, blobs[i], keys[i])
	}
}
