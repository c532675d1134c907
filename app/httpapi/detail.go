package httpapi

import (
	"errors"
	"strings"
)

// PublicDetail is err's message as a client may read it: the problem, in
// the use case's words, without the layers a store adapter added. Each
// wrapping layer (fmt.Errorf with one %w) contributes its own words; a
// layer naming the store is left out, and what remains ends in the
// sentinel's text. "storage: file 42: sqlite: get file: not found" reads
// "storage: file 42: not found". The CLI prints the same for the errors a
// user caused (cli.ErrorLine).
func PublicDetail(err error) string {
	var b strings.Builder
	leafKept := false
	for e := err; e != nil; {
		inner := errors.Unwrap(e)
		own := e.Error()
		if inner != nil {
			if im := inner.Error(); strings.HasSuffix(own, im) {
				own = strings.TrimSuffix(own, im)
			} else {
				inner = nil // the wrapper reworded its cause: take it whole
			}
		}
		if !namesStore(own) {
			b.WriteString(own)
			leafKept = inner == nil
		}
		e = inner
	}
	out := b.String()
	if !leafKept {
		out = strings.TrimRight(strings.TrimSpace(out), ":") // "create org: " + the sentinel below
		if s := sentinelText(err); out == "" {
			out = s
		} else {
			out += ": " + s
		}
	}
	if namesStore(out) { // a reworded or joined error still carries them
		return sentinelText(err)
	}
	return out
}

// namesStore reports whether s holds the words a store adapter wraps its
// errors in ("sqlite: get file: not found", "postgres: create shop:
// conflict") or a driver's own ("pq: …", "sql: …").
func namesStore(s string) bool {
	low := strings.ToLower(s)
	for _, m := range [...]string{"sqlite", "postgres", "pq:", "sql:"} {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// sentinelText is the text of the first status rule's sentinel err
// matches ("not found", "conflict"), or "error".
func sentinelText(err error) string {
	for _, r := range statusRules() {
		if errors.Is(err, r.err) {
			return r.err.Error()
		}
	}
	return "error"
}
