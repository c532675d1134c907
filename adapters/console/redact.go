package console

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Redaction says how much of a message the console senders show.
type Redaction string

// The redaction levels. The zero value is RedactBodies.
const (
	// RedactBodies, the default, shows the envelope (addresses, subject,
	// Messaging Service, idempotency key) and replaces each body by its
	// size; links in headers (List-Unsubscribe) keep only their host.
	RedactBodies Redaction = "bodies"
	// RedactLinks shows bodies with every link cut to its scheme and
	// host, so the text can be read but no token or sign-in link leaks.
	RedactLinks Redaction = "links"
	// RedactNone shows everything, links included: for a developer's own
	// machine, where following the sign-in link is the point.
	RedactNone Redaction = "none"
)

// ParseRedaction parses "bodies" (or ""), "links" or "none".
func ParseRedaction(s string) (Redaction, error) {
	switch r := Redaction(strings.ToLower(strings.TrimSpace(s))); r {
	case "", RedactBodies:
		return RedactBodies, nil
	case RedactLinks, RedactNone:
		return r, nil
	}
	return "", fmt.Errorf("unknown redaction %q (want bodies, links or none)", s)
}

// linkPattern finds URLs in text.
var linkPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"'()]+`)

// body returns a message body as r shows it.
func (r Redaction) body(s string) string {
	switch r {
	case RedactNone:
		return s
	case RedactLinks:
		return redactLinks(s)
	}
	if s == "" {
		return ""
	}
	return fmt.Sprintf("[redacted: %d bytes]", len(s))
}

// header returns a header value as r shows it: links cut unless
// RedactNone.
func (r Redaction) header(s string) string {
	if r == RedactNone {
		return s
	}
	return redactLinks(s)
}

// redactLinks replaces every URL by its scheme and host followed by
// "/[redacted]".
func redactLinks(s string) string {
	return linkPattern.ReplaceAllStringFunc(s, func(link string) string {
		u, err := url.Parse(link)
		if err != nil || u.Host == "" {
			return "[redacted link]"
		}
		return u.Scheme + "://" + u.Host + "/[redacted]"
	})
}
