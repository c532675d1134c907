package httpapi_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// internalWords name the store's internals: no problem body may carry
// them (a problem names the problem, not the layer that found it).
var internalWords = []string{"sqlite", "postgres", "pq:", "sql:"}

// noInternals is the guard every problem the suites produce passes
// through (problemOf, and the attack matrix's noSecrets). A body that is
// not UTF-8 text (an export's ZIP) is no problem and is passed over: its
// compressed bytes spell "pq:" or "sql:" by chance now and then.
func noInternals(t testing.TB, what, body string) {
	t.Helper()
	if !utf8.ValidString(body) {
		return
	}
	low := strings.ToLower(body)
	for _, w := range internalWords {
		assert.NotContains(t, low, w, "%s: the problem names internals: %s", what, body)
	}
}
