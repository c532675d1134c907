package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"

	"github.com/stockadehq/stockade/ports"
)

// Envelope encryption of object bodies (STO-4). Every object is encrypted
// with its own random data key by Tink's streaming AEAD AES-GCM-HKDF with
// 4 KiB ciphertext segments (Tink's AES256_GCM_HKDF_4KB): a header (a
// length byte, a random 32-byte HKDF salt, a random 7-byte nonce prefix),
// then segments of AES-256-GCM under a key derived from the data key, the
// salt and the associated data. Each segment's nonce carries its index and
// a last-segment flag, so reordering, dropping, truncating or extending
// segments fails authentication. Memory per stream is one segment plus a
// small buffer, whatever the object's size. The framing is Tink's; this
// file only fixes its parameters and computes sizes from them.
const (
	// DataKeySize is the length of a data key, the per-object key.
	DataKeySize = 32
	// EnvelopeSegmentSize is the size of a ciphertext segment.
	EnvelopeSegmentSize = 4096
	// EnvelopeOverhead is the ciphertext size of an empty object: the
	// header and one tag.
	EnvelopeOverhead = envelopeHeaderSize + envelopeTagSize
	// MaxEnvelopePlaintext is the largest object the envelope encrypts
	// (Tink counts segments in 32 bits): about 17.5 TB.
	MaxEnvelopePlaintext int64 = envelopeFirstPlain + (envelopeMaxSegments-1)*envelopePlainSegment

	envelopeHeaderSize   = 1 + DataKeySize + subtle.AESGCMHKDFNoncePrefixSizeInBytes // 40
	envelopeTagSize      = subtle.AESGCMHKDFTagSizeInBytes                           // 16
	envelopePlainSegment = EnvelopeSegmentSize - envelopeTagSize                     // 4080
	// The first segment shares its EnvelopeSegmentSize bytes with the
	// header.
	envelopeFirstPlain  = envelopePlainSegment - envelopeHeaderSize // 4040
	envelopeMaxSegments = 1<<32 - 1
	// envelopeChunk is how much plaintext EncryptingReader reads at once;
	// 16 KiB measured faster than 8, 32 or 64 (cache and allocation).
	envelopeChunk = 16 << 10
)

// ErrEnvelopeCorrupt is returned (wrapped) when a ciphertext fails
// authentication: it was altered, truncated, extended or reordered, or it
// is read with the wrong data key or associated data. It is never returned
// for an error of the underlying reader, which is wrapped as it is.
var ErrEnvelopeCorrupt = errors.New("encrypted object is corrupt or was encrypted under another key or name")

// NewDataKey returns a fresh random data key of DataKeySize bytes from
// crypto/rand. Use one per object and never reuse it.
func NewDataKey() []byte {
	k := make([]byte, DataKeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

// newEnvelopeCipher returns the streaming AEAD under dataKey; ErrInvalid
// unless dataKey is DataKeySize bytes.
func newEnvelopeCipher(dataKey []byte) (*subtle.AESGCMHKDF, error) {
	if len(dataKey) != DataKeySize {
		return nil, ports.Invalid("data key", fmt.Sprintf("must be %d bytes", DataKeySize))
	}
	c, err := subtle.NewAESGCMHKDF(dataKey, "SHA256", DataKeySize, EnvelopeSegmentSize, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: envelope cipher: %w", err)
	}
	return c, nil
}

// EncryptingWriter returns a writer that encrypts what is written to it
// under dataKey (DataKeySize bytes, else ErrInvalid), bound to aad, and
// writes the ciphertext to dst: the header at once, then one Write per
// 4 KiB segment as each fills. Close writes the last segment and must be
// called; it does not close dst. Exactly CiphertextSize(n) bytes reach dst
// for n bytes written, however the writes are split. aad is not stored:
// decryption needs the same bytes (bind the shop and object key). Errors
// of dst are returned wrapped. Not safe for concurrent use.
func EncryptingWriter(dst io.Writer, dataKey, aad []byte) (io.WriteCloser, error) {
	c, err := newEnvelopeCipher(dataKey)
	if err != nil {
		return nil, err
	}
	w, err := c.NewEncryptingWriter(dst, aad)
	if err != nil {
		return nil, fmt.Errorf("storage: encrypt: %w", err)
	}
	return envelopeWriter{w}, nil
}

type envelopeWriter struct{ w io.WriteCloser }

func (e envelopeWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		err = fmt.Errorf("storage: encrypt: %w", err)
	}
	return n, err
}

func (e envelopeWriter) Close() error {
	if err := e.w.Close(); err != nil {
		return fmt.Errorf("storage: encrypt: %w", err)
	}
	return nil
}

// EncryptingReader returns a reader of the ciphertext of src's plaintext,
// as EncryptingWriter would write it, without a goroutine or pipe: hand
// it to ObjectStore.Put with size CiphertextSize(plaintext size). It reads
// src in 16 KiB chunks as it is read. An error reading src is returned
// wrapped; it then repeats.
func EncryptingReader(src io.Reader, dataKey, aad []byte) (io.Reader, error) {
	r := &envelopeEncReader{src: src}
	w, err := EncryptingWriter(&r.out, dataKey, aad)
	if err != nil {
		return nil, err
	}
	r.w = w
	return r, nil
}

type envelopeEncReader struct {
	src   io.Reader
	w     io.WriteCloser // encrypts into out
	out   bytes.Buffer   // ciphertext not yet read; drained before refilled
	chunk []byte
	done  bool // src ended and w was closed
	err   error
}

func (r *envelopeEncReader) Read(p []byte) (int, error) {
	for r.out.Len() == 0 {
		switch {
		case r.err != nil:
			return 0, r.err
		case r.done:
			return 0, io.EOF
		}
		r.fill()
	}
	return r.out.Read(p)
}

// fill encrypts the next chunk of src into out.
func (r *envelopeEncReader) fill() {
	if r.chunk == nil {
		r.chunk = make([]byte, envelopeChunk)
		r.out.Grow(envelopeChunk + 2*EnvelopeSegmentSize) // never grows again
	}
	n, err := r.src.Read(r.chunk)
	if n > 0 {
		if _, werr := r.w.Write(r.chunk[:n]); werr != nil {
			r.err = werr
			return
		}
	}
	switch {
	case err == io.EOF:
		r.err = r.w.Close()
		r.done = true
	case err != nil:
		r.err = fmt.Errorf("storage: read plaintext: %w", err)
	}
}

// DecryptingReader returns a reader of the plaintext of the ciphertext in
// src, made by EncryptingWriter or EncryptingReader under dataKey
// (DataKeySize bytes, else ErrInvalid) with the same aad. It reads src as
// it is read, header included, one segment at a time.
//
// Each Read returns plaintext only from segments that passed
// authentication, but a truncated stream is noticed only at its end:
// until Read returns io.EOF the object as a whole is unverified. A caller
// streaming it on (e.g. an HTTP response) must abort, not finish, the
// transfer on an error. A failed authentication is ErrEnvelopeCorrupt;
// an error of src is returned wrapped. Errors repeat.
func DecryptingReader(src io.Reader, dataKey, aad []byte) (io.Reader, error) {
	c, err := newEnvelopeCipher(dataKey)
	if err != nil {
		return nil, err
	}
	return &envelopeDecReader{src: &envelopeSrc{r: src}, c: c, aad: bytes.Clone(aad)}, nil
}

type envelopeDecReader struct {
	src *envelopeSrc
	c   *subtle.AESGCMHKDF
	aad []byte
	r   io.Reader // Tink's reader, once the header is read
	err error
}

func (d *envelopeDecReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.r == nil {
		r, err := d.c.NewDecryptingReader(d.src, d.aad)
		if err != nil {
			d.err = d.fail(err)
			return 0, d.err
		}
		d.r = r
	}
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		d.err = d.fail(err)
		return 0, d.err
	}
	return n, err
}

// fail tells an error of src from a failed authentication: Tink returns
// both unwrapped.
func (d *envelopeDecReader) fail(err error) error {
	if d.src.err != nil {
		return fmt.Errorf("storage: read ciphertext: %w", d.src.err)
	}
	return fmt.Errorf("storage: decrypt: %w: %w", ErrEnvelopeCorrupt, err)
}

// envelopeSrc remembers the first error of r other than io.EOF.
type envelopeSrc struct {
	r   io.Reader
	err error
}

func (s *envelopeSrc) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// CiphertextSize returns the exact size of the ciphertext of a
// plaintextSize-byte object, the size ObjectStore.Put must be given: the
// header, the plaintext and a 16-byte tag per segment. The first segment
// holds 4040 bytes of plaintext beside the header, every later one 4080;
// the last may be partly filled, and is empty only when the whole object
// is. It returns -1 for a negative size or one above MaxEnvelopePlaintext.
func CiphertextSize(plaintextSize int64) int64 {
	if plaintextSize < 0 || plaintextSize > MaxEnvelopePlaintext {
		return -1
	}
	segments := int64(1)
	if rest := plaintextSize - envelopeFirstPlain; rest > 0 {
		segments += (rest + envelopePlainSegment - 1) / envelopePlainSegment
	}
	return envelopeHeaderSize + plaintextSize + segments*envelopeTagSize
}

// PlaintextSize inverts CiphertextSize: the plaintext size of a
// ciphertextSize-byte object. ErrEnvelopeCorrupt (wrapped) for a size no
// plaintext has, which marks a truncated or extended object before any
// byte is read.
func PlaintextSize(ciphertextSize int64) (int64, error) {
	bad := fmt.Errorf("storage: %d bytes is no envelope ciphertext size: %w", ciphertextSize, ErrEnvelopeCorrupt)
	firstFull := int64(envelopeFirstPlain + envelopeTagSize) // the first segment's ciphertext, full
	body := ciphertextSize - envelopeHeaderSize
	switch {
	case body < envelopeTagSize:
		return 0, bad
	case body <= firstFull:
		return body - envelopeTagSize, nil
	}
	rest := body - firstFull
	full, last := rest/EnvelopeSegmentSize, rest%EnvelopeSegmentSize
	n := envelopeFirstPlain + full*envelopePlainSegment
	switch {
	case last == 0: // the last segment is full
	case last <= envelopeTagSize: // an empty or torn last segment after a full one
		return 0, bad
	default:
		n += last - envelopeTagSize
	}
	if n > MaxEnvelopePlaintext {
		return 0, bad
	}
	return n, nil
}
