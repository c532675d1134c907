// Package localkms is the embedded default ports.KeyManager: each shop's
// key-encryption keys (KEKs) are random 256-bit AES-GCM keys kept in one
// file per shop, <dir>/<shop>.keys (mode 0600), each KEK sealed with
// AES-256-GCM under a master key given to New. Files are replaced
// atomically (temporary file, fsync, rename, fsync of the directory).
//
// Master-key rotation: New takes a list of master keys; the first seals
// every KEK written from then on, the others only open existing ones.
// Rewrap re-seals every file under the first, after which the others can
// be dropped from configuration.
//
// Limitations: one process owns a directory (locks are in memory).
// Crypto-shredding is as good as deleting a file: the file system's
// journal, snapshots or backups of the directory may keep a destroyed
// shop's sealed KEKs, which the master key still opens. Keep backups of
// this directory apart from object backups, or not at all.
package localkms

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/stockadehq/stockade/ports"
)

// MinMasterKeyLen is the shortest master key New accepts, in bytes. A
// master key must be random (e.g. `openssl rand 32`), not a passphrase.
const MinMasterKeyLen = 32

// Manager is a ports.KeyManager on a local directory. It is safe for
// concurrent use within one process.
type Manager struct {
	dir     string
	masters []masterKey // masters[0] seals; all open
	// locks serialise the writers of one shop's file (creation, rotation,
	// re-sealing, destruction); readers need none since files are
	// replaced by rename. Striped by shop so memory stays fixed.
	locks [64]sync.Mutex
}

var _ ports.KeyManager = (*Manager)(nil)

// New returns a Manager on dir, creating it (mode 0700) if missing.
// masterKeys must hold at least one key of MinMasterKeyLen or more random
// bytes; the first is current. Errors match ports.ErrInvalid for bad
// arguments.
func New(dir string, masterKeys [][]byte) (*Manager, error) {
	if dir == "" {
		return nil, ports.Invalid("key directory", "must be set")
	}
	if len(masterKeys) == 0 {
		return nil, ports.Invalid("master keys", "at least one is required")
	}
	m := &Manager{dir: dir}
	seen := map[string]bool{}
	for i, k := range masterKeys {
		if len(k) < MinMasterKeyLen {
			return nil, ports.Invalid("master keys", fmt.Sprintf("key %d is %d bytes; at least %d are required", i, len(k), MinMasterKeyLen))
		}
		mk, err := deriveMaster(k)
		if err != nil {
			return nil, err
		}
		if seen[mk.id] {
			return nil, ports.Invalid("master keys", fmt.Sprintf("key %d repeats an earlier one", i))
		}
		seen[mk.id] = true
		m.masters = append(m.masters, mk)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localkms: create key directory: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("localkms: key directory %s is not a directory: %w", dir, errors.Join(ports.ErrInvalid, err))
	}
	return m, nil
}

func (m *Manager) lock(shop ports.ShopID) func() {
	mu := &m.locks[int(shop.UUID[15])%len(m.locks)]
	mu.Lock()
	return mu.Unlock
}

// check refuses a done ctx and a zero shop.
func check(ctx context.Context, shop ports.ShopID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localkms: %w", err)
	}
	if shop.IsZero() {
		return ports.Invalid("shop", "must be set")
	}
	return nil
}

// WrapKey implements ports.KeyManager.
func (m *Manager) WrapKey(ctx context.Context, shop ports.ShopID, dataKey []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	if len(dataKey) < ports.MinDataKeyLen || len(dataKey) > ports.MaxDataKeyLen {
		return nil, ports.Invalid("data key", fmt.Sprintf("must be %d to %d bytes", ports.MinDataKeyLen, ports.MaxDataKeyLen))
	}
	r, err := readRing(m.dir, shop)
	if err == nil && r == nil {
		r, err = m.create(ctx, shop)
	}
	if err != nil {
		return nil, err
	}
	kek, err := r.openKEK(m.masters, r.name.version)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return sealBlob(r.name, kek, dataKey)
}

// create writes shop's first ring unless another caller got there first,
// and returns the ring on disk.
func (m *Manager) create(ctx context.Context, shop ports.ShopID) (*ring, error) {
	defer m.lock(shop)()
	r, err := readRing(m.dir, shop)
	if err != nil || r != nil {
		return r, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localkms: %w", err)
	}
	if r, err = newRing(m.masters[0], shop); err != nil {
		return nil, err
	}
	return r, writeRing(m.dir, r)
}

// UnwrapKey implements ports.KeyManager. Besides the port's errors, a KEK
// sealed under a master key that is not configured, or a corrupt key file,
// is ErrUnavailable.
func (m *Manager) UnwrapKey(ctx context.Context, shop ports.ShopID, wrapped []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	n, err := parseBlob(wrapped)
	if err != nil {
		return nil, err
	}
	if n.shop != shop {
		return nil, ports.Invalid("wrapped key", "wrapped for another shop")
	}
	r, err := readRing(m.dir, shop)
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return nil, destroyed(shop, "no keys")
	case r.name.ring != n.ring:
		return nil, destroyed(shop, "its key ring was destroyed")
	}
	kek, err := r.openKEK(m.masters, n.version)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return openBlob(n, kek, wrapped)
}

// RotateKey implements ports.KeyManager. The new KEK is sealed under the
// current master key; older versions stay as they are (see Rewrap).
func (m *Manager) RotateKey(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	defer m.lock(shop)()
	r, err := readRing(m.dir, shop)
	switch {
	case err != nil:
		return err
	case r == nil:
		r, err = newRing(m.masters[0], shop)
	default:
		err = r.addVersion(m.masters[0])
	}
	if err != nil {
		return err
	}
	return writeRing(m.dir, r)
}

// DestroyKeys implements ports.KeyManager: it removes the shop's key file
// and any temporary file a crash left behind, then fsyncs the directory.
func (m *Manager) DestroyKeys(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	defer m.lock(shop)()
	if err := m.removeTemps(shop); err != nil {
		return err
	}
	err := os.Remove(keyPath(m.dir, shop))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localkms: destroy keys of shop %s: %w: %w", shop, ports.ErrUnavailable, err)
	}
	if err := syncDir(m.dir); err != nil {
		return fmt.Errorf("localkms: destroy keys of shop %s: %w: %w", shop, ports.ErrUnavailable, err)
	}
	return nil
}

// removeTemps deletes shop's leftover temporary files. The caller holds
// shop's lock, so no write of shop is in progress.
func (m *Manager) removeTemps(shop ports.ShopID) error {
	temps, err := filepath.Glob(filepath.Join(m.dir, "."+shop.String()+".*"+tmpSuffix))
	if err != nil {
		return fmt.Errorf("localkms: %w", err)
	}
	for _, name := range temps {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("localkms: remove %s: %w: %w", filepath.Base(name), ports.ErrUnavailable, err)
		}
	}
	return nil
}

// Rewrap re-seals every KEK of every shop under the current (first)
// master key and removes temporary files left by a crash. It returns how
// many key files it rewrote; files already sealed under the current master
// are left alone, so Rewrap can be re-run after a failure. It goes on past
// a file it cannot re-seal (e.g. one under a master key no longer
// configured) and reports every such failure joined. A done ctx stops it
// between files.
func (m *Manager) Rewrap(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return 0, fmt.Errorf("localkms: list key directory: %w: %w", ports.ErrUnavailable, err)
	}
	var errs []error
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, errors.Join(append(errs, fmt.Errorf("localkms: rewrap: %w", err))...)
		}
		name, isKeys := strings.CutSuffix(e.Name(), keySuffix)
		if !isKeys {
			if tmp, ok := strings.CutPrefix(e.Name(), "."); ok && strings.HasSuffix(tmp, tmpSuffix) {
				if shop, err := ports.ParseShopID(strings.SplitN(tmp, ".", 2)[0]); err == nil {
					unlock := m.lock(shop)
					errs = append(errs, m.removeTemps(shop))
					unlock()
				}
			}
			continue
		}
		shop, err := ports.ParseShopID(name)
		if err != nil {
			continue // not ours
		}
		done, err := m.rewrapShop(shop)
		if done {
			n++
		}
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// rewrapShop re-seals shop's KEKs under the current master key if any is
// sealed under another, and reports whether it rewrote the file.
func (m *Manager) rewrapShop(shop ports.ShopID) (bool, error) {
	defer m.lock(shop)()
	if err := m.removeTemps(shop); err != nil {
		return false, err
	}
	r, err := readRing(m.dir, shop)
	if err != nil || r == nil {
		return false, err
	}
	cur := m.masters[0]
	stale := false
	for _, v := range r.ordered {
		if r.sealed[v].Master == cur.id {
			continue
		}
		stale = true
		kek, err := r.openKEK(m.masters, v)
		if err != nil {
			return false, err
		}
		n := r.name
		n.version = v
		s, err := sealKEK(cur, n, kek)
		clear(kek)
		if err != nil {
			return false, err
		}
		r.sealed[v] = s
	}
	if !stale {
		return false, nil
	}
	return true, writeRing(m.dir, r)
}
