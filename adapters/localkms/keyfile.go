package localkms

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/stockadehq/stockade/ports"
)

// keyFileFormat names the layout of a key file, <dir>/<shop>.keys:
//
//	{"format":"stockade-localkms/1","shop":"<uuid>","ring":"<hex>",
//	 "current":2,"keys":[{"version":1,"master":"<id>","sealed":"<base64>"},…]}
//
// sealed is nonce (12) | AES-256-GCM(master, KEK) with the tag, under
// associated data kekAAD, so a sealed KEK cannot be moved to another shop,
// ring or version. master is the ID of the master key that sealed it; an
// ID reveals nothing about the key (an HKDF output of its own).
const keyFileFormat = "stockade-localkms/1"

type keyFile struct {
	Format  string      `json:"format"`
	Shop    string      `json:"shop"`
	Ring    string      `json:"ring"`
	Current uint32      `json:"current"`
	Keys    []sealedKEK `json:"keys"`
}

type sealedKEK struct {
	Version uint32 `json:"version"`
	Master  string `json:"master"`
	Sealed  []byte `json:"sealed"` // base64 in JSON
}

// masterKey is an AES-256 key derived from a configured master key.
type masterKey struct {
	id  string // hex; names the key in key files
	key []byte
}

// deriveMaster turns a configured secret into a masterKey: two HKDF-SHA256
// outputs with distinct labels, one the AES key, one its public ID.
func deriveMaster(secret []byte) (masterKey, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, "stockade localkms master key v1", 32)
	if err != nil {
		return masterKey{}, fmt.Errorf("localkms: derive master key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, secret, nil, "stockade localkms master key id v1", 8)
	if err != nil {
		return masterKey{}, fmt.Errorf("localkms: derive master key id: %w", err)
	}
	return masterKey{id: hex.EncodeToString(id), key: key}, nil
}

// kekAAD binds a sealed KEK to its shop, ring and version.
func kekAAD(n kekName) []byte {
	return append([]byte("stockade localkms kek v1\x00"), n.header()[len(blobMagic):]...)
}

func sealKEK(m masterKey, n kekName, kek []byte) (sealedKEK, error) {
	aead, err := newGCM(m.key)
	if err != nil {
		return sealedKEK{}, err
	}
	nonce := randomBytes(gcmNonceLen)
	return sealedKEK{Version: n.version, Master: m.id, Sealed: aead.Seal(nonce, nonce, kek, kekAAD(n))}, nil
}

// ring is a decoded key file: the shop's KEK versions, still sealed.
type ring struct {
	name    kekName // shop, ring ID and the current version
	sealed  map[uint32]sealedKEK
	ordered []uint32 // versions in file order, for a stable rewrite
}

// newRing returns a ring with one fresh KEK, sealed under m.
func newRing(m masterKey, shop ports.ShopID) (*ring, error) {
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	r := &ring{name: kekName{shop: shop, ring: id}, sealed: map[uint32]sealedKEK{}}
	return r, r.addVersion(m)
}

// addVersion seals a fresh random KEK as the next version and makes it
// current.
func (r *ring) addVersion(m masterKey) error {
	n := r.name
	n.version++
	kek := randomBytes(32)
	defer clear(kek)
	s, err := sealKEK(m, n, kek)
	if err != nil {
		return err
	}
	r.name = n
	r.sealed[n.version] = s
	r.ordered = append(r.ordered, n.version)
	return nil
}

// openKEK returns version v of the ring in clear; the caller clears it.
// ErrNotFound ("key destroyed") for a version the ring does not hold;
// ErrUnavailable when its master key is not configured or it does not open.
func (r *ring) openKEK(masters []masterKey, v uint32) ([]byte, error) {
	s, ok := r.sealed[v]
	if !ok {
		return nil, destroyed(r.name.shop, "KEK version unknown")
	}
	i := slices.IndexFunc(masters, func(m masterKey) bool { return m.id == s.Master })
	if i < 0 {
		return nil, fmt.Errorf("localkms: shop %s: KEK v%d is sealed under master key %s, which is not configured: %w",
			r.name.shop, v, s.Master, ports.ErrUnavailable)
	}
	aead, err := newGCM(masters[i].key)
	if err != nil {
		return nil, err
	}
	n := r.name
	n.version = v
	if len(s.Sealed) < gcmNonceLen {
		return nil, corrupt(r.name.shop, "sealed KEK too short")
	}
	kek, err := aead.Open(nil, s.Sealed[:gcmNonceLen], s.Sealed[gcmNonceLen:], kekAAD(n))
	if err != nil || len(kek) != 32 {
		return nil, corrupt(r.name.shop, fmt.Sprintf("KEK v%d does not open under its master key", v))
	}
	return kek, nil
}

// encode renders the ring as a key file.
func (r *ring) encode() ([]byte, error) {
	f := keyFile{Format: keyFileFormat, Shop: r.name.shop.String(), Ring: hexRing(r.name.ring), Current: r.name.version}
	for _, v := range r.ordered {
		f.Keys = append(f.Keys, r.sealed[v])
	}
	return json.MarshalIndent(f, "", "\t")
}

// decodeRing parses a key file of shop.
func decodeRing(shop ports.ShopID, b []byte) (*ring, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, corrupt(shop, "not JSON")
	}
	id, err := hex.DecodeString(f.Ring)
	switch {
	case f.Format != keyFileFormat:
		return nil, corrupt(shop, fmt.Sprintf("unknown format %q", f.Format))
	case f.Shop != shop.String():
		return nil, corrupt(shop, "file names another shop")
	case err != nil || len(id) != 16:
		return nil, corrupt(shop, "bad ring ID")
	}
	r := &ring{name: kekName{shop: shop, version: f.Current}, sealed: map[uint32]sealedKEK{}}
	copy(r.name.ring[:], id)
	for _, k := range f.Keys {
		if _, dup := r.sealed[k.Version]; dup || k.Version == 0 {
			return nil, corrupt(shop, fmt.Sprintf("bad or repeated version %d", k.Version))
		}
		r.sealed[k.Version] = k
		r.ordered = append(r.ordered, k.Version)
	}
	if _, ok := r.sealed[f.Current]; !ok {
		return nil, corrupt(shop, "current version missing")
	}
	return r, nil
}

// readRing loads shop's key file from dir; (nil, nil) when there is none.
func readRing(dir string, shop ports.ShopID) (*ring, error) {
	b, err := os.ReadFile(keyPath(dir, shop))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("localkms: read key file of shop %s: %w: %w", shop, ports.ErrUnavailable, err)
	}
	return decodeRing(shop, b)
}

// writeRing replaces shop's key file atomically: a temporary file in dir
// (mode 0600), fsync, rename over the old file, fsync of dir. A crash
// leaves the old file or the new one, never a mixture.
func writeRing(dir string, r *ring) (err error) {
	b, err := r.encode()
	if err != nil {
		return fmt.Errorf("localkms: encode key file: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("localkms: write key file of shop %s: %w: %w", r.name.shop, ports.ErrUnavailable, err)
		}
	}()
	f, err := os.CreateTemp(dir, "."+r.name.shop.String()+".*"+tmpSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err = f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, keyPath(dir, r.name.shop)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir flushes dir's entries, so that a rename or removal survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

const (
	keySuffix = ".keys"
	tmpSuffix = ".tmp"
)

func keyPath(dir string, shop ports.ShopID) string {
	return filepath.Join(dir, shop.String()+keySuffix)
}

func corrupt(shop ports.ShopID, why string) error {
	return fmt.Errorf("localkms: key file of shop %s is corrupt (%s): %w", shop, why, ports.ErrUnavailable)
}

func destroyed(shop ports.ShopID, why string) error {
	return fmt.Errorf("localkms: shop %s: key destroyed (%s): %w", shop, why, ports.ErrNotFound)
}

// randomBytes returns n bytes from crypto/rand, which never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
