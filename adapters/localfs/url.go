package localfs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// ParseURL returns the directory of a file URL: file:///abs/path,
// file://relative/path or file:relative. Query parameters are refused:
// everything else is in Options.
func ParseURL(raw string) (string, error) {
	rest, ok := strings.CutPrefix(raw, "file:")
	if !ok {
		scheme, _, _ := strings.Cut(raw, ":")
		return "", ports.Invalid("objects url", fmt.Sprintf("scheme must be file, got %q", scheme))
	}
	rest = strings.TrimPrefix(rest, "//")
	if strings.ContainsAny(rest, "?#") {
		return "", ports.Invalid("objects url", "file URLs take no query or fragment")
	}
	dir, err := url.PathUnescape(rest)
	if err != nil {
		return "", ports.Invalid("objects url", fmt.Sprintf("malformed path: %v", err))
	}
	if dir == "" || strings.ContainsRune(dir, 0) {
		return "", ports.Invalid("objects url", "needs a directory, e.g. file:///var/lib/stockade/objects")
	}
	return dir, nil
}
