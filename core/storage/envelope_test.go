package storage_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// Segment geometry, restated so the tests check the code rather than
// share its constants: a 40-byte header, then 4096-byte ciphertext
// segments holding 4080 bytes of plaintext (4040 in the first).
const (
	seg        = 4096
	firstPlain = 4040
	plainSeg   = 4080
)

// envelopeSizes are the plaintext sizes the round trips cover: empty, tiny,
// every segment boundary of the first three segments ±1, and large.
func envelopeSizes() []int64 {
	sizes := []int64{0, 1, 2, 100}
	for _, b := range []int64{firstPlain, firstPlain + plainSeg, firstPlain + 2*plainSeg} {
		sizes = append(sizes, b-1, b, b+1)
	}
	return append(sizes, 64<<10, 1<<20, 1<<20+12345, 64<<20)
}

// plaintext is a reproducible stream of n pseudo-random bytes.
func plaintext(seed, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)}), n)
}

// sum is the SHA-256 of a reader's bytes.
func sum(t *testing.T, r io.Reader) ([]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	require.NoError(t, err)
	return h.Sum(nil), n
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestEnvelopeRoundTrip streams each size through EncryptingReader straight
// into DecryptingReader: nothing holds the object, so 64 MiB costs a few
// buffers. The plaintext's SHA-256 is taken as it is fed in.
func TestEnvelopeRoundTrip(t *testing.T) {
	aad := []byte("shop/object")
	for i, n := range envelopeSizes() {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			key := storage.NewDataKey()
			in := sha256.New()
			enc, err := storage.EncryptingReader(io.TeeReader(plaintext(int64(i), n), in), key, aad)
			require.NoError(t, err)
			ct := &counter{r: enc}
			dec, err := storage.DecryptingReader(ct, key, aad)
			require.NoError(t, err)
			out, got := sum(t, dec)
			assert.Equal(t, n, got)
			assert.Equal(t, in.Sum(nil), out, "plaintext differs after the round trip")
			assert.Equal(t, storage.CiphertextSize(n), ct.n, "CiphertextSize is the exact size")
			p, err := storage.PlaintextSize(ct.n)
			require.NoError(t, err)
			assert.Equal(t, n, p)
		})
	}
}

// TestEnvelopeWriterRoundTrip encrypts with EncryptingWriter into a pipe
// whose other end decrypts, as an upload handler would.
func TestEnvelopeWriterRoundTrip(t *testing.T) {
	for _, n := range []int64{0, firstPlain, firstPlain + 1, 1 << 20, 64 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			key, aad := storage.NewDataKey(), []byte("aad")
			want, _ := sum(t, plaintext(n, n))
			pr, pw := io.Pipe()
			go func() {
				w, err := storage.EncryptingWriter(pw, key, aad)
				if err == nil {
					if _, err = io.Copy(w, plaintext(n, n)); err == nil {
						err = w.Close()
					}
				}
				pw.CloseWithError(err)
			}()
			ct := &counter{r: pr}
			dec, err := storage.DecryptingReader(ct, key, aad)
			require.NoError(t, err)
			got, _ := sum(t, dec)
			assert.Equal(t, want, got)
			assert.Equal(t, storage.CiphertextSize(n), ct.n)
		})
	}
}

// countWriter counts what is written to it and keeps nothing.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// chunkSizes are the plaintext sizes to try with writes of chunk bytes:
// all up to max for one write per object; for split writes, each segment
// boundary ±3 and every 61st size.
func chunkSizes(chunk, max int) []int {
	var sizes []int
	for n := 0; n <= max; n++ {
		nearBoundary := false
		for _, b := range []int{firstPlain, firstPlain + plainSeg, firstPlain + 2*plainSeg, firstPlain + 3*plainSeg} {
			nearBoundary = nearBoundary || (n >= b-3 && n <= b+3)
		}
		if chunk == 0 || nearBoundary || n%61 == 0 {
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// TestCiphertextSizeIsExact encrypts every size from 0 to past four
// segments in one write, and sizes around each boundary with writes split
// several ways, and counts the output.
func TestCiphertextSizeIsExact(t *testing.T) {
	key, aad := storage.NewDataKey(), []byte("aad")
	data := make([]byte, firstPlain+3*plainSeg+10)
	for _, chunk := range []int{0 /* all at once */, 1, 7, firstPlain, seg, plainSeg + 1} {
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			t.Parallel()
			for _, n := range chunkSizes(chunk, len(data)) {
				var c countWriter
				w, err := storage.EncryptingWriter(&c, key, aad)
				require.NoError(t, err)
				for p := data[:n]; len(p) > 0; {
					k := len(p)
					if chunk > 0 {
						k = min(chunk, k)
					}
					_, err := w.Write(p[:k])
					require.NoError(t, err)
					p = p[k:]
				}
				require.NoError(t, w.Close())
				require.Equal(t, storage.CiphertextSize(int64(n)), c.n, "plaintext size %d", n)
			}
		})
	}
}

func TestCiphertextSizeFormula(t *testing.T) {
	tests := []struct{ give, want int64 }{
		{0, 56},
		{1, 57},
		{firstPlain, seg},
		{firstPlain + 1, seg + 1 + 16},
		{firstPlain + plainSeg, 2 * seg},
		{firstPlain + 2*plainSeg, 3 * seg},
		{64 << 20, 40 + 64<<20 + 16*(1+(64<<20-firstPlain+plainSeg-1)/plainSeg)},
		{-1, -1},
		{storage.MaxEnvelopePlaintext + 1, -1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, storage.CiphertextSize(tt.give), "CiphertextSize(%d)", tt.give)
	}
	maxCT := storage.CiphertextSize(storage.MaxEnvelopePlaintext)
	assert.Equal(t, int64(1<<32-1)*seg, maxCT, "the largest object fills 2³²-1 segments")
	p, err := storage.PlaintextSize(maxCT)
	require.NoError(t, err)
	assert.Equal(t, storage.MaxEnvelopePlaintext, p)
	_, err = storage.PlaintextSize(maxCT + 17)
	assert.ErrorIs(t, err, storage.ErrEnvelopeCorrupt)
}

// TestPlaintextSizeInvertsCiphertextSize checks every ciphertext size up
// to five segments: PlaintextSize accepts exactly the sizes CiphertextSize
// produces.
func TestPlaintextSizeInvertsCiphertextSize(t *testing.T) {
	const limit = 5 * seg
	produced := map[int64]int64{}
	for n := int64(0); ; n++ {
		c := storage.CiphertextSize(n)
		if c > limit {
			break
		}
		produced[c] = n
	}
	for c := int64(-1); c <= limit; c++ {
		p, err := storage.PlaintextSize(c)
		if n, ok := produced[c]; ok {
			require.NoError(t, err, "ciphertext size %d", c)
			require.Equal(t, n, p, "ciphertext size %d", c)
		} else {
			require.ErrorIs(t, err, storage.ErrEnvelopeCorrupt, "ciphertext size %d", c)
		}
	}
}

// seal encrypts n seeded bytes into memory, for the attack tests.
func seal(t *testing.T, key, aad []byte, n int64) (ct, plain []byte) {
	t.Helper()
	plain, err := io.ReadAll(plaintext(n, n))
	require.NoError(t, err)
	var buf bytes.Buffer
	w, err := storage.EncryptingWriter(&buf, key, aad)
	require.NoError(t, err)
	_, err = w.Write(plain)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes(), plain
}

func open(key, aad, ct []byte) ([]byte, error) {
	r, err := storage.DecryptingReader(bytes.NewReader(ct), key, aad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func requireCorrupt(t *testing.T, key, aad, ct []byte, what string) {
	t.Helper()
	_, err := open(key, aad, ct)
	require.ErrorIs(t, err, storage.ErrEnvelopeCorrupt, what)
}

// TestEnvelopeTamper alters every byte of a two-segment ciphertext, and
// cuts it at every length: each must fail authentication.
func TestEnvelopeTamper(t *testing.T) {
	key, aad := storage.NewDataKey(), []byte("aad")
	ct, plain := seal(t, key, aad, firstPlain+1000)
	got, err := open(key, aad, ct)
	require.NoError(t, err)
	require.Equal(t, plain, got)
	assert.False(t, bytes.Contains(ct, plain[:64]), "the ciphertext must not hold the plaintext")

	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		requireCorrupt(t, key, aad, bad, fmt.Sprintf("byte %d altered", i))
	}
	for n := range len(ct) {
		requireCorrupt(t, key, aad, ct[:n], fmt.Sprintf("cut to %d bytes", n))
	}
	requireCorrupt(t, key, aad, append(bytes.Clone(ct), 0), "a byte appended")
}

// TestEnvelopeSegmentsStayInOrder swaps, drops, repeats and cuts whole
// segments of a five-segment ciphertext: segment-aligned attacks on the
// framing rather than the bytes.
func TestEnvelopeSegmentsStayInOrder(t *testing.T) {
	key, aad := storage.NewDataKey(), []byte("aad")
	ct, _ := seal(t, key, aad, firstPlain+3*plainSeg+500)
	require.Len(t, ct, 4*seg+500+16)
	s := func(i int) []byte { return ct[i*seg : (i+1)*seg] } // segment i ≥ 1
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tail := ct[4*seg:]
	tests := map[string][]byte{
		"swapped":       join(ct[:seg], s(2), s(1), s(3), tail),
		"dropped":       join(ct[:seg], s(1), s(3), tail),
		"repeated":      join(ct[:seg], s(1), s(1), s(2), s(3), tail),
		"cut at a full": ct[:4*seg],
		"last dropped":  ct[:3*seg],
	}
	for name, bad := range tests {
		requireCorrupt(t, key, aad, bad, name)
	}
	other, _ := seal(t, key, aad, firstPlain+3*plainSeg+500)
	requireCorrupt(t, key, aad, join(ct[:seg], other[seg:]), "segments of another object under the same key")
}

func TestEnvelopeWrongKeyOrAAD(t *testing.T) {
	key, aad := storage.NewDataKey(), []byte("shops/a/photo/1")
	for _, n := range []int64{0, 5000} {
		ct, _ := seal(t, key, aad, n)
		requireCorrupt(t, key, []byte("shops/b/photo/1"), ct, "another object's AAD")
		requireCorrupt(t, key, nil, ct, "no AAD")
		requireCorrupt(t, storage.NewDataKey(), aad, ct, "another data key")
	}
}

func TestEnvelopeRefusesBadDataKeys(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		k := make([]byte, n)
		_, err := storage.EncryptingWriter(io.Discard, k, nil)
		assert.ErrorIs(t, err, ports.ErrInvalid, "EncryptingWriter, %d-byte key", n)
		_, err = storage.EncryptingReader(bytes.NewReader(nil), k, nil)
		assert.ErrorIs(t, err, ports.ErrInvalid, "EncryptingReader, %d-byte key", n)
		_, err = storage.DecryptingReader(bytes.NewReader(nil), k, nil)
		assert.ErrorIs(t, err, ports.ErrInvalid, "DecryptingReader, %d-byte key", n)
	}
}

func TestNewDataKeyIsFresh(t *testing.T) {
	a, b := storage.NewDataKey(), storage.NewDataKey()
	assert.Len(t, a, storage.DataKeySize)
	assert.NotEqual(t, a, b)
	// One key, one plaintext, two encryptions: the random salt and nonce
	// prefix make the ciphertexts differ.
	c1, _ := seal(t, a, nil, 100)
	c2, _ := seal(t, a, nil, 100)
	assert.NotEqual(t, c1, c2)
}

// failing yields good bytes, then err.
type failing struct {
	r   io.Reader
	err error
}

func (f *failing) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestEnvelopeSourceErrorsAreNotCorruption: a broken connection while
// reading an object is the store's error, not a tampered object.
func TestEnvelopeSourceErrorsAreNotCorruption(t *testing.T) {
	boom := errors.New("connection reset")
	key, aad := storage.NewDataKey(), []byte("aad")
	ct, _ := seal(t, key, aad, 3*seg)
	for _, cut := range []int{0, 10, seg, 2*seg + 5} {
		dec, err := storage.DecryptingReader(&failing{r: bytes.NewReader(ct[:cut]), err: boom}, key, aad)
		require.NoError(t, err)
		_, err = io.ReadAll(dec)
		require.ErrorIs(t, err, boom, "cut at %d", cut)
		assert.NotErrorIs(t, err, storage.ErrEnvelopeCorrupt, "cut at %d", cut)
		_, again := dec.Read(make([]byte, 10))
		assert.ErrorIs(t, again, boom, "errors repeat")
	}

	enc, err := storage.EncryptingReader(&failing{r: plaintext(1, 10000), err: boom}, key, aad)
	require.NoError(t, err)
	_, err = io.ReadAll(enc)
	assert.ErrorIs(t, err, boom)

	w, err := storage.EncryptingWriter(&failingWriter{err: boom}, key, aad)
	if err == nil {
		_, err = w.Write(make([]byte, 3*seg))
	}
	assert.ErrorIs(t, err, boom)
}

type failingWriter struct{ err error }

func (f *failingWriter) Write([]byte) (int, error) { return 0, f.err }
