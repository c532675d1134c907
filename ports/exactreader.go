package ports

import (
	"fmt"
	"io"
)

// ExactReader reads exactly Size bytes from R and fails otherwise. Stores
// wrap Put's reader in one so a body longer or shorter than declared fails
// the upload before it completes: the read that would deliver the last
// byte first checks that R has nothing more. For adapters.
type ExactReader struct {
	R    io.Reader
	Size int64

	n   int64
	err error // sticky: the first error returned, for Err
}

// Read implements io.Reader.
func (e *ExactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.n >= e.Size {
		if err := e.checkEnd(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if rest := e.Size - e.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := e.R.Read(p)
	e.n += int64(n)
	switch {
	case err == io.EOF && e.n < e.Size:
		e.err = fmt.Errorf("%w (read %d of %d bytes)", Invalid("body", "shorter than the declared size"), e.n, e.Size)
		return n, e.err
	case err != nil && err != io.EOF:
		e.err = fmt.Errorf("read body: %w", err)
		return n, e.err
	case e.n == e.Size:
		if err := e.checkEnd(); err != nil {
			return 0, err // withhold the last bytes so the upload cannot complete
		}
		return n, io.EOF
	}
	return n, nil
}

// checkEnd reads ahead one byte: R must be at its end.
func (e *ExactReader) checkEnd() error {
	var b [1]byte
	for range 100 {
		n, err := e.R.Read(b[:])
		switch {
		case n > 0:
			e.err = Invalid("body", fmt.Sprintf("longer than the declared size of %d bytes", e.Size))
			return e.err
		case err == io.EOF:
			return nil
		case err != nil:
			e.err = fmt.Errorf("read body: %w", err)
			return e.err
		}
	}
	e.err = fmt.Errorf("read body: %w", io.ErrNoProgress)
	return e.err
}

// Err returns the size or read error Read returned, if any. Stores check it
// after an upload fails, since their driver may report the failure in its
// own words.
func (e *ExactReader) Err() error { return e.err }

// Complete reports whether exactly Size bytes were read and the end of R
// was seen.
func (e *ExactReader) Complete() bool { return e.err == nil && e.n == e.Size }
