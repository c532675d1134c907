package storage_test

import (
	"mime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", storage.TypeJPEG},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", storage.TypePNG},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", storage.TypeWebP},
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", storage.TypePDF},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", storage.TypeHEIC},
		{"avif is not heic", "\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1", "application/octet-stream"},
		{"html", "<!DOCTYPE html><script>alert(1)</script>", "text/html; charset=utf-8"},
		{"svg is not an image here", `<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>`, "text/plain; charset=utf-8"},
		{"empty", "", "text/plain; charset=utf-8"},
		{"riff that is not webp", "RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wave"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, storage.Sniff([]byte(tt.give)))
		})
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		give, want string
	}{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ann\photo.jpg`, "photo.jpg"},
		{"  spaced.png  ", "spaced.png"},
		{"tab\there.pdf", "tab_here.pdf"},
		{"rtl\u202egnp.exe", "rtl_gnp.exe"},
		{"bad\xffutf8.pdf", "bad\uFFFDutf8.pdf"},
		{"Küche – vorher.jpg", "Küche – vorher.jpg"},
		{strings.Repeat("é", 200) + ".pdf", strings.Repeat("é", 127)},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := storage.CleanName(tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.NoError(t, ports.ValidateFileName(got))
		})
	}
	for _, give := range []string{"", "   ", "a/", "..", "dir/."} {
		_, err := storage.CleanName(give)
		assert.ErrorIs(t, err, ports.ErrInvalid, "%q", give)
	}
}

func TestDisposition(t *testing.T) {
	for _, name := range []string{
		"report.pdf", "Küche – vorher.jpg", `quote".pdf`, "semi;colon%.pdf", "日本語のファイル.pdf",
		strings.Repeat("日本", 40) + ".pdf",
	} {
		t.Run(name, func(t *testing.T) {
			d := storage.Disposition(name)
			assert.LessOrEqual(t, len(d), 255)
			require.NoError(t, ports.ValidateSignedURL("GET", "a/b", storage.DownloadURLExpiry, ports.SignedURLOptions{ContentDisposition: d}))
			typ, params, err := mime.ParseMediaType(d)
			require.NoError(t, err)
			assert.Equal(t, "attachment", typ)
			if len(name) < 60 {
				assert.Equal(t, name, params["filename"], "filename* decodes to the exact name: %s", d)
			} else {
				assert.True(t, strings.HasSuffix(params["filename"], ".pdf"), "a long name keeps its extension: %s", d)
			}
		})
	}
}
