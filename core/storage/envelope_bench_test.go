package storage_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stockadehq/stockade/core/storage"
)

// plainReader and plainWriter hide bytes.Reader's WriterTo and
// io.Discard's ReaderFrom, so that every case, the baseline included,
// copies through one 32 KiB buffer the way a body from the network or the
// object store would. The buffer is shared (io.CopyBuffer): allocating it
// per copy costs ~11 µs on these machines and would swamp 64 KiB.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

type plainWriter struct{}

func (plainWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkEnvelope measures encryption and decryption throughput (MB/s of
// plaintext) beside a plain io.Copy of the same bytes, at 64 KiB, 1 MiB
// and 64 MiB:
//
//	go test -run '^$' -bench Envelope -benchmem ./core/storage
func BenchmarkEnvelope(b *testing.B) {
	key, aad := storage.NewDataKey(), []byte("shops/x/photo/y")
	buf := make([]byte, 32<<10)
	for _, size := range []struct {
		name string
		n    int
	}{{"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		plain := make([]byte, size.n)
		_, _ = io.ReadFull(plaintext(1, int64(size.n)), plain)
		var sealed bytes.Buffer
		w, err := storage.EncryptingWriter(&sealed, key, aad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		ct := sealed.Bytes()

		run := func(name string, copyOnce func() error) {
			b.Run(size.name+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(size.n))
				for b.Loop() {
					if err := copyOnce(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("copy", func() error {
			_, err := io.CopyBuffer(plainWriter{}, plainReader{bytes.NewReader(plain)}, buf)
			return err
		})
		run("encrypt-writer", func() error {
			w, err := storage.EncryptingWriter(plainWriter{}, key, aad)
			if err != nil {
				return err
			}
			if _, err := io.CopyBuffer(w, plainReader{bytes.NewReader(plain)}, buf); err != nil {
				return err
			}
			return w.Close()
		})
		run("encrypt-reader", func() error {
			r, err := storage.EncryptingReader(plainReader{bytes.NewReader(plain)}, key, aad)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(plainWriter{}, r, buf)
			return err
		})
		// As an upload does with EncryptingWriter: a goroutine encrypts
		// into a pipe that the object store reads.
		run("encrypt-pipe", func() error {
			pr, pw := io.Pipe()
			go func() {
				w, err := storage.EncryptingWriter(pw, key, aad)
				if err == nil {
					if _, err = io.Copy(w, plainReader{bytes.NewReader(plain)}); err == nil {
						err = w.Close()
					}
				}
				pw.CloseWithError(err)
			}()
			_, err := io.CopyBuffer(plainWriter{}, pr, buf)
			return err
		})
		run("decrypt", func() error {
			r, err := storage.DecryptingReader(plainReader{bytes.NewReader(ct)}, key, aad)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(plainWriter{}, r, buf)
			return err
		})
	}
}
