package scrub

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a secret in text.
const Mask = "xxxxx"

// links finds URLs in text.
var links = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"'()]+`)

// ProviderText returns a provider's answer (an error message, a server's
// reply) as an adapter may put it into an error or a log line: every
// occurrence of each non-empty secret (the adapter's credentials) is
// masked, and every URL is cut to its scheme and host, so that a provider
// or proxy echoing a credential, or a message's links and their tokens,
// leaks neither.
func ProviderText(text string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, Mask)
		}
	}
	return links.ReplaceAllStringFunc(text, func(link string) string {
		u, err := url.Parse(link)
		if err != nil || u.Host == "" {
			return "[link]"
		}
		return u.Scheme + "://" + u.Host + "/…"
	})
}
