package storage

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"

	"github.com/stockadehq/stockade/ports"
)

// Content types the sniffer recognises.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypeHEIC = "image/heic"
	TypePDF  = "application/pdf"
)

// SniffLen is how many leading bytes decide a file's content type, as for
// http.DetectContentType.
const SniffLen = 512

// KindRule is what one kind of file accepts.
type KindRule struct {
	// MaxSize is the largest accepted file, in bytes (plaintext).
	MaxSize int64
	// Types are the accepted content types, each one the sniffer
	// recognises (TypeJPEG, TypePNG, TypeWebP, TypeHEIC, TypePDF).
	Types []string
	// Any accepts any content, stored and served as
	// application/octet-stream (always as an attachment, never rendered).
	// Types must then be empty.
	Any bool
}

func (r KindRule) validate(kind string) error {
	if err := ports.ValidateFileKind(kind); err != nil {
		return err
	}
	if r.MaxSize <= 0 {
		return ports.Invalid("rule "+kind, "max size must be positive")
	}
	if r.Any != (len(r.Types) == 0) {
		return ports.Invalid("rule "+kind, "give either content types or Any")
	}
	for _, t := range r.Types {
		if !slices.Contains([]string{TypeJPEG, TypePNG, TypeWebP, TypeHEIC, TypePDF}, t) {
			return ports.Invalid("rule "+kind, fmt.Sprintf("content type %q is not one the sniffer recognises", t))
		}
	}
	return nil
}

// DefaultRules are the shipped kinds: photos (JPEG, PNG, WebP, HEIC; up to
// 25 MiB), documents (PDF; up to 50 MiB) and certificates (PDF, JPEG,
// PNG; up to 20 MiB).
func DefaultRules() map[string]KindRule {
	return map[string]KindRule{
		"photo":       {MaxSize: 25 << 20, Types: []string{TypeJPEG, TypePNG, TypeWebP, TypeHEIC}},
		"document":    {MaxSize: 50 << 20, Types: []string{TypePDF}},
		"certificate": {MaxSize: 20 << 20, Types: []string{TypePDF, TypeJPEG, TypePNG}},
	}
}

// rule returns the rule of kind, or ErrInvalid for an unknown kind.
func (s *Service) rule(kind string) (KindRule, error) {
	r, ok := s.rules[kind]
	if !ok {
		return KindRule{}, ports.Invalid("kind", fmt.Sprintf("unknown kind %q", kind))
	}
	return r, nil
}

// checkSize refuses a size the rule does not accept.
func (r KindRule) checkSize(size int64) error {
	if size < 0 {
		return ports.Invalid("size", "must not be negative")
	}
	if size > r.MaxSize {
		return ports.Invalid("size", fmt.Sprintf("must be at most %d bytes for this kind", r.MaxSize))
	}
	return nil
}

// accept returns the content type to store for a file whose first bytes
// are head (all of the file when it is shorter than SniffLen), or
// ErrInvalid when the rule does not accept it. declared, when set, is the
// type the uploader claimed: it must equal what was sniffed.
func (r KindRule) accept(head []byte, declared string) (string, error) {
	if r.Any {
		if declared != "" && declared != ports.DefaultContentType {
			if _, err := ports.NormalizeContentType(declared); err != nil {
				return "", err
			}
		}
		return ports.DefaultContentType, nil
	}
	got := Sniff(head)
	if !slices.Contains(r.Types, got) {
		return "", ports.Invalid("content", fmt.Sprintf("looks like %s, which this kind does not accept", got))
	}
	if declared != "" && declared != ports.DefaultContentType && declared != got {
		return "", ports.Invalid("content type", fmt.Sprintf("declared %q but the content is %s", declared, got))
	}
	return got, nil
}

// Sniff names the content type of a file that starts with head. The image
// and PDF types are recognised only by their exact magic numbers (and, but
// for HEIC, only when http.DetectContentType agrees); anything else gets
// http.DetectContentType's answer, e.g. "text/html; charset=utf-8".
func Sniff(head []byte) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	detected := http.DetectContentType(head)
	var magic string
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		magic = TypeJPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		magic = TypePNG
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		magic = TypeWebP
	case bytes.HasPrefix(head, []byte("%PDF-")):
		magic = TypePDF
	case isHEIC(head):
		return TypeHEIC // DetectContentType does not know HEIC
	}
	if magic != "" && magic == detected {
		return magic
	}
	return detected
}

// isHEIC recognises an ISO base media file whose "ftyp" box names a HEIF
// brand of HEVC-coded images. AVIF and MP4 share the box but not the brands.
func isHEIC(head []byte) bool {
	if len(head) < 12 || !bytes.Equal(head[4:8], []byte("ftyp")) {
		return false
	}
	switch string(head[8:12]) {
	case "heic", "heix", "heim", "heis", "hevc", "hevx":
		return true
	}
	return false
}
