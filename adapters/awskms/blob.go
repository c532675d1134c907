package awskms

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/google/uuid"

	"github.com/stockadehq/stockade/ports"
)

// A wrapped data key ("blob") is
//
//	magic "SKA\x01" | scope (16) | ring (16) | version (4, big endian) |
//	KMS ciphertext (1 to 6144 bytes) | CRC-32C (4)
//
// The header (magic to version) names the KEK version; the KMS ciphertext
// is what Encrypt returned for the data key under that version's KMS key
// with the encryption context of encryptionContext (scope and version), so
// the KMS itself refuses a ciphertext presented for another shop or
// version. The trailing CRC-32C over every byte before it is no security
// measure (the KMS's authenticated encryption is): it classifies an
// altered blob as malformed (ErrInvalid) before any KMS call, even where
// the alteration hits the header, which would otherwise read as an
// unknown, destroyed key.
const (
	blobMagic      = "SKA\x01"
	blobHeaderLen  = len(blobMagic) + 16 + 16 + 4
	crcLen         = 4
	maxCiphertext  = 6144 // the KMS's CiphertextBlob limit
	minBlobLen     = blobHeaderLen + 1 + crcLen
	maxBlobLen     = blobHeaderLen + maxCiphertext + crcLen
	contextShopKey = "stockade:shop"
	contextKEKKey  = "stockade:kek"
)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// kekName names one KEK version of a scope.
type kekName struct {
	scope   ports.ShopID
	ring    [16]byte
	version uint32
}

func (n kekName) String() string { return fmt.Sprintf("%x/v%d", n.ring, n.version) }

// encryptionContext is the KMS encryption context of every Encrypt and
// Decrypt under n: it binds the ciphertext to the shop and the version.
func (n kekName) encryptionContext() map[string]string {
	return map[string]string{contextShopKey: n.scope.String(), contextKEKKey: n.String()}
}

func (n kekName) header() []byte {
	h := make([]byte, 0, blobHeaderLen)
	h = append(h, blobMagic...)
	h = append(h, n.scope.UUID[:]...)
	h = append(h, n.ring[:]...)
	return binary.BigEndian.AppendUint32(h, n.version)
}

// sealBlob frames a KMS ciphertext as a blob naming n.
func sealBlob(n kekName, ciphertext []byte) []byte {
	out := append(n.header(), ciphertext...)
	return binary.BigEndian.AppendUint32(out, crc32c(out))
}

// parseBlob checks a blob's framing and returns the KEK it names and the
// KMS ciphertext.
func parseBlob(blob []byte) (kekName, []byte, error) {
	var n kekName
	if len(blob) < minBlobLen || len(blob) > maxBlobLen || !bytes.HasPrefix(blob, []byte(blobMagic)) {
		return n, nil, ports.Invalid("wrapped key", "malformed")
	}
	body, sum := blob[:len(blob)-crcLen], blob[len(blob)-crcLen:]
	if crc32c(body) != binary.BigEndian.Uint32(sum) {
		return n, nil, ports.Invalid("wrapped key", "malformed or altered")
	}
	p := blob[len(blobMagic):]
	scope, err := uuid.FromBytes(p[:16])
	if err != nil {
		return n, nil, ports.Invalid("wrapped key", "malformed")
	}
	n.scope = ports.ShopID{UUID: scope}
	copy(n.ring[:], p[16:32])
	n.version = binary.BigEndian.Uint32(p[32:36])
	if n.version == 0 {
		return n, nil, ports.Invalid("wrapped key", "malformed")
	}
	return n, bytes.Clone(body[blobHeaderLen:]), nil
}

// KEKVersion returns the KEK version a blob names, as "<ring>/v<n>": ring
// is the hex ID of the shop's key ring (a new one after DestroyKeys) and n
// the version within it. ErrInvalid for a malformed blob. It reads only
// the blob's framing and calls no KMS.
func KEKVersion(wrapped []byte) (string, error) {
	n, _, err := parseBlob(wrapped)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}
