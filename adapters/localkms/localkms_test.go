package localkms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func secret(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 48)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func newManager(t *testing.T, dir string, masters ...[]byte) *Manager {
	t.Helper()
	m, err := New(dir, masters)
	require.NoError(t, err)
	return m
}

func wrapNew(t *testing.T, m *Manager, shop ports.ShopID) (blob, key []byte) {
	t.Helper()
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	blob, err := m.WrapKey(context.Background(), shop, key)
	require.NoError(t, err)
	return blob, key
}

func requireUnwraps(t *testing.T, m *Manager, shop ports.ShopID, blob, want []byte) {
	t.Helper()
	got, err := m.UnwrapKey(context.Background(), shop, blob)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestKeyFileNeverHoldsAKEKInClear(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	m := newManager(t, dir, secret(t))
	shop := ports.NewShopID()
	wrapNew(t, m, shop)
	require.NoError(t, m.RotateKey(ctx, shop))
	wrapNew(t, m, shop)

	raw, err := os.ReadFile(keyPath(dir, shop))
	require.NoError(t, err)
	r, err := readRing(dir, shop)
	require.NoError(t, err)
	require.Len(t, r.ordered, 2)
	for _, v := range r.ordered {
		kek, err := r.openKEK(m.masters, v)
		require.NoError(t, err)
		require.Len(t, kek, 32)
		for _, form := range [][]byte{
			kek,
			[]byte(hex.EncodeToString(kek)),
			[]byte(strings.ToUpper(hex.EncodeToString(kek))),
			[]byte(base64.StdEncoding.EncodeToString(kek)[:40]),
			[]byte(base64.RawURLEncoding.EncodeToString(kek)[:40]),
		} {
			assert.False(t, bytes.Contains(raw, form), "the key file holds KEK v%d in clear", v)
		}
		for _, s := range r.sealed {
			assert.False(t, bytes.Contains(s.Sealed, kek), "a sealed KEK holds KEK v%d in clear", v)
		}
	}
	assert.NotContains(t, string(raw), hex.EncodeToString(m.masters[0].key), "the key file must not hold the master key")

	fi, err := os.Stat(keyPath(dir, shop))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	assert.Equal(t, []string{shop.String() + ".keys"}, dirNames(t, dir), "no temporary file is left behind")
}

func TestKeysSurviveANewManager(t *testing.T) {
	dir, k := t.TempDir(), secret(t)
	shop := ports.NewShopID()
	blob, key := wrapNew(t, newManager(t, dir, k), shop)
	requireUnwraps(t, newManager(t, dir, k), shop, blob, key)

	_, err := newManager(t, dir, secret(t)).UnwrapKey(context.Background(), shop, blob)
	require.ErrorIs(t, err, ports.ErrUnavailable, "a KEK under an unknown master key is unavailable, not destroyed")
	assert.NotErrorIs(t, err, ports.ErrNotFound)
}

func TestMasterKeyRotation(t *testing.T) {
	ctx := context.Background()
	dir, k1, k2 := t.TempDir(), secret(t), secret(t)
	old := newManager(t, dir, k1)
	a, b := ports.NewShopID(), ports.NewShopID()
	blobA1, keyA1 := wrapNew(t, old, a)
	require.NoError(t, old.RotateKey(ctx, a))
	blobA2, keyA2 := wrapNew(t, old, a)
	blobB, keyB := wrapNew(t, old, b)

	both := newManager(t, dir, k2, k1)
	requireUnwraps(t, both, a, blobA1, keyA1)
	require.NoError(t, both.RotateKey(ctx, b)) // b now mixes masters
	blobB2, keyB2 := wrapNew(t, both, b)

	n, err := both.Rewrap(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = both.Rewrap(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a second Rewrap finds nothing to do")

	onlyNew := newManager(t, dir, k2)
	requireUnwraps(t, onlyNew, a, blobA1, keyA1)
	requireUnwraps(t, onlyNew, a, blobA2, keyA2)
	requireUnwraps(t, onlyNew, b, blobB, keyB)
	requireUnwraps(t, onlyNew, b, blobB2, keyB2)
	for _, shop := range []ports.ShopID{a, b} {
		r, err := readRing(dir, shop)
		require.NoError(t, err)
		for _, s := range r.sealed {
			assert.Equal(t, onlyNew.masters[0].id, s.Master)
		}
	}

	_, err = newManager(t, dir, k1).UnwrapKey(ctx, a, blobA1)
	assert.ErrorIs(t, err, ports.ErrUnavailable, "the retired master key no longer opens anything")
}

func TestRewrapGoesOnPastAFileItCannotOpen(t *testing.T) {
	ctx := context.Background()
	dir, k1, k2, k3 := t.TempDir(), secret(t), secret(t), secret(t)
	lost, kept := ports.NewShopID(), ports.NewShopID()
	wrapNew(t, newManager(t, dir, k1), lost)
	blob, key := wrapNew(t, newManager(t, dir, k2), kept)

	m := newManager(t, dir, k3, k2) // k1 was lost
	n, err := m.Rewrap(ctx)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Contains(t, err.Error(), lost.String())
	assert.Equal(t, 1, n)
	requireUnwraps(t, newManager(t, dir, k3), kept, blob, key)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.Rewrap(cancelled)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDestroyLeavesNothingOfTheShop(t *testing.T) {
	dir := t.TempDir()
	m := newManager(t, dir, secret(t))
	shop, other := ports.NewShopID(), ports.NewShopID()
	wrapNew(t, m, shop)
	blob, key := wrapNew(t, m, other)
	// A crash between writing a temporary file and renaming it leaves one.
	leftover := filepath.Join(dir, "."+shop.String()+".123456"+tmpSuffix)
	require.NoError(t, os.WriteFile(leftover, []byte("sealed KEKs"), 0o600))

	require.NoError(t, m.DestroyKeys(context.Background(), shop))
	assert.Equal(t, []string{other.String() + ".keys"}, dirNames(t, dir))
	requireUnwraps(t, m, other, blob, key)
}

func TestRewrapSweepsLeftovers(t *testing.T) {
	dir := t.TempDir()
	m := newManager(t, dir, secret(t))
	shop := ports.NewShopID()
	leftover := filepath.Join(dir, "."+shop.String()+".99"+tmpSuffix)
	require.NoError(t, os.WriteFile(leftover, []byte("sealed KEKs"), 0o600))
	_, err := m.Rewrap(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dirNames(t, dir))
}

func TestTamperedKeyFilesAreUnavailableNotDestroyed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newManager(t, dir, secret(t))
	a, b := ports.NewShopID(), ports.NewShopID()
	wrapNew(t, m, a)
	blobB, _ := wrapNew(t, m, b)
	fileA, err := os.ReadFile(keyPath(dir, a))
	require.NoError(t, err)
	fileB, err := os.ReadFile(keyPath(dir, b))
	require.NoError(t, err)
	ringA, err := readRing(dir, a)
	require.NoError(t, err)
	ringB, err := readRing(dir, b)
	require.NoError(t, err)
	// A's sealed KEK under B's shop and ring: only the seal's associated
	// data can tell.
	moved := bytes.ReplaceAll(fileA, []byte(a.String()), []byte(b.String()))
	moved = bytes.ReplaceAll(moved, []byte(hexRing(ringA.name.ring)), []byte(hexRing(ringB.name.ring)))

	tests := []struct {
		name string
		give []byte
	}{
		{"another shop's file", fileA},
		{"another shop's KEK relabelled", moved},
		{"not JSON", []byte("{")},
		{"unknown format", bytes.Replace(fileB, []byte(keyFileFormat), []byte("other/9"), 1)},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(keyPath(dir, b), tt.give, 0o600))
			_, err := m.UnwrapKey(ctx, b, blobB)
			assert.ErrorIs(t, err, ports.ErrUnavailable)
			_, err = m.WrapKey(ctx, b, make([]byte, 32))
			assert.ErrorIs(t, err, ports.ErrUnavailable)
		})
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	k := secret(t)
	tests := []struct {
		name    string
		dir     string
		masters [][]byte
	}{
		{"no directory", "", [][]byte{k}},
		{"no master key", dir, nil},
		{"short master key", dir, [][]byte{k[:MinMasterKeyLen-1]}},
		{"repeated master key", dir, [][]byte{k, bytes.Clone(k)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.dir, tt.masters)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := New(file, [][]byte{k})
	assert.Error(t, err)
}

func TestKEKVersion(t *testing.T) {
	m := newManager(t, t.TempDir(), secret(t))
	shop := ports.NewShopID()
	blob, _ := wrapNew(t, m, shop)
	v, err := KEKVersion(blob)
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{32}/v1$`, v)
	_, err = KEKVersion(blob[1:])
	assert.ErrorIs(t, err, ports.ErrInvalid)
}
