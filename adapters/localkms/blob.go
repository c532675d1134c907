package localkms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"

	"github.com/google/uuid"

	"github.com/stockadehq/stockade/ports"
)

// A wrapped data key ("blob") is
//
//	magic "SKW\x01" | shop (16) | ring (16) | version (4, big endian) |
//	nonce (12) | AES-256-GCM(KEK, data key) with the tag (len+16) | CRC-32C (4)
//
// The first 40 bytes (magic to version) are the header; they name the KEK
// and are the associated data of the seal, so a blob moved to another
// shop, ring or version does not open. The trailing CRC-32C over every
// byte before it is no security measure (GCM is): it classifies an
// altered blob as malformed (ErrInvalid) even where the alteration hits
// the KEK name, which would otherwise read as an unknown, destroyed key.
const (
	blobMagic     = "SKW\x01"
	blobHeaderLen = len(blobMagic) + 16 + 16 + 4
	gcmNonceLen   = 12
	gcmTagLen     = 16
	crcLen        = 4
	blobOverhead  = blobHeaderLen + gcmNonceLen + gcmTagLen + crcLen
)

// crc32c is the blob's checksum. MakeTable returns the standard library's
// cached Castagnoli table.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// kekName is what a blob names: a shop's ring (one per life of the shop's
// keys: DestroyKeys ends it) and a version within it.
type kekName struct {
	shop    ports.ShopID
	ring    [16]byte
	version uint32
}

func (n kekName) String() string { return fmt.Sprintf("%x/v%d", n.ring, n.version) }

// header returns the blob header naming n.
func (n kekName) header() []byte {
	h := make([]byte, 0, blobHeaderLen)
	h = append(h, blobMagic...)
	h = append(h, n.shop.UUID[:]...)
	h = append(h, n.ring[:]...)
	return binary.BigEndian.AppendUint32(h, n.version)
}

// sealBlob wraps dataKey under kek, which n names.
func sealBlob(n kekName, kek, dataKey []byte) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	h := n.header()
	out := make([]byte, 0, blobOverhead+len(dataKey))
	out = append(out, h...)
	out = append(out, randomBytes(gcmNonceLen)...)
	out = aead.Seal(out, out[blobHeaderLen:], dataKey, h)
	return binary.BigEndian.AppendUint32(out, crc32c(out)), nil
}

// parseBlob checks a blob's framing and returns the KEK it names.
func parseBlob(blob []byte) (kekName, error) {
	var n kekName
	if len(blob) < blobOverhead+ports.MinDataKeyLen || len(blob) > blobOverhead+ports.MaxDataKeyLen ||
		!bytes.HasPrefix(blob, []byte(blobMagic)) {
		return n, ports.Invalid("wrapped key", "malformed")
	}
	body, sum := blob[:len(blob)-crcLen], blob[len(blob)-crcLen:]
	if crc32c(body) != binary.BigEndian.Uint32(sum) {
		return n, ports.Invalid("wrapped key", "malformed or altered")
	}
	p := blob[len(blobMagic):]
	shop, err := uuid.FromBytes(p[:16])
	if err != nil {
		return n, ports.Invalid("wrapped key", "malformed")
	}
	n.shop = ports.ShopID{UUID: shop}
	copy(n.ring[:], p[16:32])
	n.version = binary.BigEndian.Uint32(p[32:36])
	return n, nil
}

// openBlob unwraps a blob parsed as n with kek.
func openBlob(n kekName, kek, blob []byte) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	nonce := blob[blobHeaderLen : blobHeaderLen+gcmNonceLen]
	sealed := blob[blobHeaderLen+gcmNonceLen : len(blob)-crcLen]
	key, err := aead.Open(nil, nonce, sealed, n.header())
	if err != nil {
		return nil, ports.Invalid("wrapped key", "altered, or not wrapped by this key manager")
	}
	return key, nil
}

// KEKVersion returns the KEK version a blob names, as "<ring>/v<n>": ring
// is the hex ID of the shop's key ring (a new one after DestroyKeys) and n
// the version within it. ErrInvalid for a malformed blob. It reads only the
// blob's framing: it neither checks nor needs any key.
func KEKVersion(wrapped []byte) (string, error) {
	n, err := parseBlob(wrapped)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// newGCM returns AES-GCM (standard nonce and tag sizes) under a 32-byte key.
func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("localkms: %w", err)
	}
	return cipher.NewGCM(block)
}

// hexRing renders a ring ID for the key file.
func hexRing(r [16]byte) string { return hex.EncodeToString(r[:]) }
