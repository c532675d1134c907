package tenancy

import (
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// DefaultReservedSlugs are the host labels no shop may take by default:
// names a visitor would trust as the platform's own (www.example.com,
// login.example.com, status.example.com), mail and infrastructure names,
// and Stockade's own words. Config.ReservedSlugs replaces the list.
func DefaultReservedSlugs() []string {
	return []string{
		"www", "api", "app", "admin", "administrator", "operator", "operators", "login", "signin", "signup",
		"logout", "auth", "oauth", "sso", "account", "accounts", "mail", "email", "smtp", "imap", "pop3",
		"webmail", "autoconfig", "autodiscover", "postmaster", "hostmaster", "webmaster", "abuse", "security",
		"static", "assets", "cdn", "media", "files", "objects", "img", "images", "hq", "status", "health",
		"help", "support", "docs", "blog", "billing", "payments", "pay", "dashboard", "console", "portal",
		"root", "system", "internal", "stockade", "localhost", "test", "dev", "staging", "webhooks",
	}
}

// reservedSet builds the lookup of list (nil: DefaultReservedSlugs).
func reservedSet(list []string) map[string]bool {
	if list == nil {
		list = DefaultReservedSlugs()
	}
	set := make(map[string]bool, len(list))
	for _, s := range list {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			set[s] = true
		}
	}
	return set
}

// cleanSlug lower-cases and validates a slug, an empty one derived from
// name; a reserved one (Config.ReservedSlugs) is refused with ErrInvalid
// naming the field "slug".
func (s *Service) cleanSlug(slug, name string) (string, error) {
	slug, err := cleanSlug(slug, name)
	if err != nil {
		return "", err
	}
	if s.reserved[slug] {
		return "", ports.Invalid("slug", fmt.Sprintf("%q is reserved; choose another", slug))
	}
	return slug, nil
}

// slugTaken is the answer for a slug another shop holds (the directory's
// unique slug refused the write; nothing was created).
func slugTaken(slug string) error {
	return fmt.Errorf("the slug %q is taken: %w", slug, ports.ErrConflict)
}
