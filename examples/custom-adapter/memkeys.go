// Package memkeys is an example of a user-written Stockade adapter: an
// in-memory ports.KeyManager (AES-256-GCM key-encryption keys per shop),
// proved by Stockade's conformance suite, porttest.TestKeyManager. It
// keeps its keys in process memory, so everything it wrapped is lost with
// the process: a template for writing an adapter (a KMS, an HSM, Vault),
// not a key manager to deploy.
//
// The blob format is the adapter's own:
//
//	'K' | KEK version (4 bytes, big endian) | nonce (12 bytes) | AES-GCM(data key)
//
// with the shop ID and the header as associated data, so a blob presented
// as another shop's, or altered in any byte, does not open.
package memkeys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"

	"github.com/stockadehq/stockade/ports"
)

// magic is the first byte of every blob.
const magic = 'K'

// headerLen is the magic byte and the version; nonceLen is AES-GCM's.
const (
	headerLen = 1 + 4
	nonceLen  = 12
)

// shopKeys are one shop's KEKs.
type shopKeys struct {
	// next is the version the next KEK gets. It only grows, also across
	// DestroyKeys, so that a destroyed version is never issued again.
	next    uint32
	current uint32            // 0: no KEK (none yet, or destroyed)
	keks    map[uint32][]byte // the versions still held
}

// KeyManager is the in-memory ports.KeyManager. The zero value is not
// usable; call New. It is safe for concurrent use.
type KeyManager struct {
	mu    sync.Mutex
	shops map[ports.ShopID]*shopKeys
	// forgetVersions makes DestroyKeys reset the shop's version counter:
	// the bug the broken variant in the tests has (see README.md).
	forgetVersions bool
}

var _ ports.KeyManager = (*KeyManager)(nil)

// New returns an empty key manager.
func New() *KeyManager {
	return &KeyManager{shops: map[ports.ShopID]*shopKeys{}}
}

// check refuses a zero shop and a done context, as the port asks.
func check(ctx context.Context, shop ports.ShopID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memkeys: %w", err)
	}
	if shop.IsZero() {
		return ports.Invalid("shop", "must be set")
	}
	return nil
}

// keysOf returns shop's keys, created empty when create is set (else nil
// for a shop never seen). The caller holds mu.
func (k *KeyManager) keysOf(shop ports.ShopID, create bool) *shopKeys {
	s := k.shops[shop]
	if s == nil && create {
		s = &shopKeys{next: 1, keks: map[uint32][]byte{}}
		k.shops[shop] = s
	}
	return s
}

// newKEK makes a fresh KEK current for s. The caller holds mu.
func (s *shopKeys) newKEK() {
	kek := make([]byte, 32)
	_, _ = rand.Read(kek) // crypto/rand.Read never fails
	v := s.next
	s.next++
	s.keks[v] = kek
	s.current = v
}

// aad is the associated data of a blob: the shop and the header.
func aad(shop ports.ShopID, header []byte) []byte {
	return append([]byte(shop.String()+"|"), header...)
}

// WrapKey implements ports.KeyManager.
func (k *KeyManager) WrapKey(ctx context.Context, shop ports.ShopID, dataKey []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	if n := len(dataKey); n < ports.MinDataKeyLen || n > ports.MaxDataKeyLen {
		return nil, ports.Invalid("data key", fmt.Sprintf("want %d to %d bytes, got %d", ports.MinDataKeyLen, ports.MaxDataKeyLen, n))
	}
	k.mu.Lock()
	s := k.keysOf(shop, true)
	if s.current == 0 {
		s.newKEK()
	}
	v, kek := s.current, s.keks[s.current]
	k.mu.Unlock()

	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	blob := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(dataKey)+aead.Overhead())
	blob[0] = magic
	binary.BigEndian.PutUint32(blob[1:headerLen], v)
	_, _ = rand.Read(blob[headerLen:])
	return aead.Seal(blob, blob[headerLen:], dataKey, aad(shop, blob[:headerLen])), nil
}

// UnwrapKey implements ports.KeyManager.
func (k *KeyManager) UnwrapKey(ctx context.Context, shop ports.ShopID, wrapped []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	if len(wrapped) < headerLen+nonceLen+ports.MinDataKeyLen+16 || wrapped[0] != magic {
		return nil, ports.Invalid("wrapped key", "malformed")
	}
	v := binary.BigEndian.Uint32(wrapped[1:headerLen])
	k.mu.Lock()
	s := k.keysOf(shop, false)
	var kek []byte
	issued := s != nil && v != 0 && v < s.next
	if issued {
		kek = s.keks[v]
	}
	k.mu.Unlock()
	switch {
	case !issued: // a version this shop never had: altered, or another shop's
		return nil, ports.Invalid("wrapped key", "does not open")
	case kek == nil:
		return nil, fmt.Errorf("memkeys: key destroyed (version %d): %w", v, ports.ErrNotFound)
	}
	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, wrapped[headerLen:headerLen+nonceLen], wrapped[headerLen+nonceLen:], aad(shop, wrapped[:headerLen]))
	if err != nil {
		return nil, ports.Invalid("wrapped key", "does not open")
	}
	return key, nil
}

// RotateKey implements ports.KeyManager.
func (k *KeyManager) RotateKey(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keysOf(shop, true).newKEK()
	return nil
}

// DestroyKeys implements ports.KeyManager.
func (k *KeyManager) DestroyKeys(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.keysOf(shop, false)
	if s == nil {
		return nil
	}
	clear(s.keks)
	s.current = 0
	if k.forgetVersions {
		s.next = 1
	}
	return nil
}

// KEKVersion returns the KEK version a blob names, for the conformance
// suite's harness.
func KEKVersion(wrapped []byte) (string, error) {
	if len(wrapped) < headerLen || wrapped[0] != magic {
		return "", ports.Invalid("wrapped key", "malformed")
	}
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(wrapped[1:headerLen])), 10), nil
}

// gcm returns AES-256-GCM under kek.
func gcm(kek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("memkeys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("memkeys: %w", err)
	}
	return aead, nil
}
