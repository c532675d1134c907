package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Download is where to fetch a file.
type Download struct {
	File ports.File
	// URL is the object store's signed GET URL (absolute); empty for an
	// encrypted file, which only the server can decrypt.
	URL string
	// ContentQuery, for an encrypted file, is the signed query
	// ("exp=…&sig=…") of the server's own content route for File on the
	// shop's host (see OpenContent).
	ContentQuery string
	ExpiresAt    time.Time
}

// DownloadURL returns a short-lived (DownloadURLExpiry) link to a ready
// file of the caller's shop, served as an attachment under its original
// name (RFC 6266 with an RFC 5987 UTF-8 name). ErrNotFound for a file of
// another shop or one not ready; ErrForbidden for a caller without a role.
func (s *Service) DownloadURL(ctx context.Context, id ports.FileID) (Download, error) {
	c, err := s.policy.Require(ctx, access.FilesRead)
	if err != nil {
		return Download{}, err
	}
	f, err := s.readyFile(ctx, c.Shop, id)
	if err != nil {
		return Download{}, err
	}
	return s.signDownload(ctx, c.Shop, f)
}

// signDownload signs a short-lived link to f, a ready file of shop.
func (s *Service) signDownload(ctx context.Context, shop ports.ShopID, f ports.File) (Download, error) {
	exp := s.clock.Now().Add(DownloadURLExpiry)
	if f.Encrypted {
		if s.contentKey == nil {
			return Download{}, fmt.Errorf("storage: no content key to sign links: %w", ports.ErrUnavailable)
		}
		return Download{File: f, ContentQuery: s.signContent(shop, f.ID, exp), ExpiresAt: exp}, nil
	}
	u, err := s.objects.SignedURL(ctx, http.MethodGet, f.ObjectKey, DownloadURLExpiry, ports.SignedURLOptions{
		ContentType: f.ContentType, ContentDisposition: Disposition(f.Name),
	})
	if err != nil {
		return Download{}, fmt.Errorf("storage: sign download: %w", err)
	}
	return Download{File: f, URL: u, ExpiresAt: exp}, nil
}

// readyFile reads a ready file of shop; a pending one is ErrNotFound.
func (s *Service) readyFile(ctx context.Context, shop ports.ShopID, id ports.FileID) (ports.File, error) {
	var f ports.File
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		f, err = tx.Files().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.File{}, fmt.Errorf("storage: file %s: %w", id, err)
	}
	if f.State != ports.FileReady {
		return ports.File{}, fmt.Errorf("storage: file %s is still being uploaded: %w", id, ports.ErrNotFound)
	}
	return f, nil
}

// contentDomain separates content-link MACs from any other use of the key.
const contentDomain = "stockade/file-content/v1"

// signContent returns the query "exp=…&sig=…" that lets its holder read
// file id of shop until exp.
func (s *Service) signContent(shop ports.ShopID, id ports.FileID, exp time.Time) string {
	e := exp.Unix()
	return "exp=" + strconv.FormatInt(e, 10) + "&sig=" + base64.RawURLEncoding.EncodeToString(s.contentMAC(shop, id, e))
}

func (s *Service) contentMAC(shop ports.ShopID, id ports.FileID, exp int64) []byte {
	m := hmac.New(sha256.New, s.contentKey)
	m.Write([]byte(contentDomain))
	m.Write(shop.UUID[:])
	m.Write(id.UUID[:])
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(exp)))
	return m.Sum(nil)
}

// ErrLinkExpired is returned (wrapped, matching ports.ErrForbidden) for a
// content link past its expiry.
var ErrLinkExpired = fmt.Errorf("link expired: %w", ports.ErrForbidden)

// OpenContent checks a content link (the query DownloadURL signed) for
// file id of shop — the shop of the host it was presented on — and
// returns the file and its plaintext, decrypted as it is read. The caller
// closes the reader. A bad or altered signature, or a link of another
// shop or file, is ErrForbidden before anything is looked up; an expired
// link is ErrLinkExpired. A file whose shop key was destroyed fails with
// the key manager's error.
func (s *Service) OpenContent(ctx context.Context, shop ports.ShopID, id ports.FileID, query url.Values) (ports.File, io.ReadCloser, error) {
	if s.contentKey == nil {
		return ports.File{}, nil, fmt.Errorf("storage: content links are not configured: %w", ports.ErrNotFound)
	}
	exp, err := strconv.ParseInt(query.Get("exp"), 10, 64)
	sig, serr := base64.RawURLEncoding.Strict().DecodeString(query.Get("sig"))
	if err != nil || serr != nil || !hmac.Equal(sig, s.contentMAC(shop, id, exp)) {
		return ports.File{}, nil, fmt.Errorf("storage: content link: bad signature: %w", ports.ErrForbidden)
	}
	if !s.clock.Now().Before(time.Unix(exp, 0)) {
		return ports.File{}, nil, fmt.Errorf("storage: content link: %w", ErrLinkExpired)
	}
	f, err := s.readyFile(ctx, shop, id)
	if err != nil {
		return ports.File{}, nil, err
	}
	rc, err := s.openPlain(ctx, shop, f)
	if err != nil {
		return ports.File{}, nil, err
	}
	return f, rc, nil
}

// Disposition returns the Content-Disposition of a download of name
// (RFC 6266): "attachment", a quoted ASCII fallback for old clients, and
// the exact name as an RFC 5987 filename* parameter (UTF-8, percent-encoded). The header stays printable ASCII within 255
// bytes (what ports.ValidateSignedURL accepts): long names are cut on a
// character boundary, keeping the extension when possible.
func Disposition(name string) string {
	for {
		d := "attachment; filename=\"" + asciiFallback(name) + "\"; filename*=UTF-8''" + pctEncode(name)
		if len(d) <= 255 || name == "" {
			return d
		}
		name = shorten(name)
	}
}

// shorten drops one character before the extension (or at the end).
func shorten(name string) string {
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		stem, ext = name[:i], name[i:]
	}
	if stem == "" {
		stem, ext = ext, ""
	}
	r := []rune(stem)
	return string(r[:len(r)-1]) + ext
}

func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' || r == ';' {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pctEncode encodes name as an RFC 5987 value-chars: attr-char kept,
// every other byte as %XX.
func pctEncode(name string) string {
	const attr = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
