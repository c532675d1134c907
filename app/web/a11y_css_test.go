package web_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// cssComment matches a CSS comment.
var cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)

// a11yNestedRules returns the selectors of the style rules of css that
// hold another rule. Stockade's stylesheet is written without CSS
// nesting, so one that does is two blocks run together (e.g. a merge that
// cut a rule's closing brace): a browser then reads every rule up to the
// next stray brace as nested in it, and they no longer apply where meant.
// Rules inside an at-rule (@media) are checked the same way.
func a11yNestedRules(css string) []string {
	css = cssComment.ReplaceAllString(css, "")
	var nested []string
	// open holds, for each open block, its prelude (selector or at-rule).
	var open []string
	start := 0
	for i, c := range css {
		switch c {
		case '{':
			prelude := strings.Join(strings.Fields(css[start:i]), " ")
			if n := len(open); n > 0 && !strings.HasPrefix(open[n-1], "@") {
				nested = append(nested, open[n-1]+" { "+prelude+" {")
			}
			open = append(open, prelude)
			start = i + 1
		case '}':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			start = i + 1
		case ';':
			start = i + 1
		}
	}
	return nested
}

// TestA11yStylesheetHasNoNestedRules: no rule of the stylesheet holds
// another (see a11yNestedRules): the screen-reader-only text (.st-vh),
// the select and textarea styles and the rest apply at the top level, as
// the screenshots and the 320 px checks assume.
func TestA11yStylesheetHasNoNestedRules(t *testing.T) {
	require.Equal(t, []string{"select { .st-main textarea {", "select { .st-vh {"},
		a11yNestedRules("select {\n  max-width: 100%;\n/* operator console */\n.st-main textarea {\n  width: 100%;\n}\n.st-vh { clip-path: inset(50%); }\n  resize: vertical;\n}\n"),
		"a rule cut short by a merge is found")
	require.Empty(t, a11yNestedRules("@media (max-width: 30rem) { .a { b: c; } }\n.d { e: f; }"), "a rule inside @media is not nested")
	css, err := os.ReadFile("static/stockade.css")
	require.NoError(t, err)
	require.Empty(t, a11yNestedRules(string(css)), "rules nested in another rule")
}
