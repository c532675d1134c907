package sqlite

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Memory is the path that opens a private in-memory database (for tests and
// examples; it vanishes when the store closes).
const Memory = ":memory:"

// ParseURL returns the file path of a sqlite URL: sqlite:///abs/path.db,
// sqlite://relative/path.db, sqlite:relative.db or sqlite://:memory:.
// Query parameters are refused (the adapter sets its own pragmas), and so
// is a user or password before the path, without repeating it.
func ParseURL(raw string) (string, error) {
	rest, ok := strings.CutPrefix(raw, "sqlite:")
	if !ok {
		return "", ports.Invalid("database url", fmt.Sprintf("scheme must be sqlite, got %q", scheme(raw)))
	}
	rest = strings.TrimPrefix(rest, "//")
	if first, _, _ := strings.Cut(rest, "/"); strings.Contains(first, "@") {
		// A user or password before the path: never echoed (it may be a
		// password), never taken as part of a file name.
		return "", ports.Invalid("database url", "sqlite URLs take no user or password")
	}
	if strings.ContainsAny(rest, "?#") {
		return "", ports.Invalid("database url", "sqlite URLs take no query or fragment; the adapter sets WAL, foreign keys and timeouts itself")
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return "", ports.Invalid("database url", fmt.Sprintf("malformed path: %v", err))
	}
	if path == "" || path == "/" {
		return "", ports.Invalid("database url", "sqlite URL needs a file path, e.g. sqlite:///var/lib/stockade/stockade.db")
	}
	if strings.ContainsRune(path, 0) {
		return "", ports.Invalid("database url", "path contains a NUL byte")
	}
	return path, nil
}

func scheme(raw string) string {
	if i := strings.Index(raw, ":"); i > 0 {
		return raw[:i]
	}
	return ""
}
