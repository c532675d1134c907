package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

func newBytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Parsed is a message decoded the way a mail client shows it.
type Parsed struct {
	Header  mail.Header // raw header fields (values not decoded)
	Subject string      // the Subject, RFC 2047 words decoded
	Text    string      // the text/plain part, transfer encoding undone, CRLF turned into LF
	HTML    string      // the text/html part, likewise
}

// Parse decodes the message: its header, the subject, and its text/plain
// and text/html parts (a single-part body or a multipart/alternative or
// multipart/mixed tree; base64 and quoted-printable undone).
func (m Message) Parse() (Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return Parsed{}, fmt.Errorf("smtptest: read message: %w", err)
	}
	p := Parsed{Header: msg.Header}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Parsed{}, fmt.Errorf("smtptest: subject: %w", err)
	}
	if err := p.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Parsed{}, err
	}
	return p, nil
}

// walk collects the text parts of one MIME entity.
func (p *Parsed) walk(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("smtptest: content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("smtptest: multipart: %w", err)
			}
			if err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("smtptest: %s body: %w", mt, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		p.Text += s
	case "text/html":
		p.HTML += s
	}
	return nil
}

// stripNewlines drops CR and LF so base64 lines decode as one stream.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	j := 0
	for _, c := range b[:n] {
		if c != '\r' && c != '\n' {
			b[j] = c
			j++
		}
	}
	return j, err
}
