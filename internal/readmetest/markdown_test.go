package readmetest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the module's root directory, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	return root
}

// readFile returns the text of the file at rel, relative to the root.
func readFile(t testing.TB, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block is one fenced code block of a Markdown text.
type block struct {
	line int      // 1-based line of the opening fence
	lang string   // the info string's first word ("" without one)
	tags []string // the info string's other words
	text string   // the lines between the fences, each ending in "\n"
}

// has reports whether tag is among b's tags.
func (b block) has(tag string) bool {
	for _, t := range b.tags {
		if t == tag {
			return true
		}
	}
	return false
}

// info is b's info string as written.
func (b block) info() string {
	return strings.TrimSpace(b.lang + " " + strings.Join(b.tags, " "))
}

// fences returns the fenced code blocks of md, in order: a block opens with
// a line that starts with ``` (after up to three spaces of indentation) and
// ends with the next line that is ``` alone. An unclosed block runs to the
// end of the text.
func fences(md string) []block {
	var out []block
	var cur *block
	for i, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				out = append(out, *cur)
				cur = nil
				continue
			}
			cur.text += line + "\n"
			continue
		}
		if len(line)-len(trimmed) > 3 || !strings.HasPrefix(trimmed, "```") {
			continue
		}
		words := strings.Fields(strings.TrimPrefix(trimmed, "```"))
		b := block{line: i + 1}
		if len(words) > 0 {
			b.lang, b.tags = words[0], words[1:]
		}
		cur = &b
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// prose is md with its fenced code blocks blanked out (their lines left
// empty, so line numbers stay), for scanning headings and links.
func prose(md string) string {
	var sb strings.Builder
	in := false
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case in:
			in = strings.TrimSpace(line) != "```"
			sb.WriteString("\n")
			continue
		case len(line)-len(trimmed) <= 3 && strings.HasPrefix(trimmed, "```"):
			in = true
			sb.WriteString("\n")
			continue
		}
		sb.WriteString(line + "\n")
	}
	return sb.String()
}

var inlineCode = regexp.MustCompile("`[^`]*`")

// headingLine matches an ATX heading: its level's hashes and its text.
var headingLine = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)

// anchors returns the fragment IDs GitHub gives md's headings: the
// heading's text lowercased, with everything but letters, digits, spaces,
// hyphens and underscores removed and spaces turned into hyphens; a
// repeated one gets "-1", "-2", … appended.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range strings.Split(prose(md), "\n") {
		m := headingLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := slugify(m[2])
		if n := seen[slug]; n > 0 {
			out[slug+"-"+itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// slugify is GitHub's anchor for a heading's text.
func slugify(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	var sb strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			sb.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// mdLink matches an inline Markdown link or image: its text and target.
var mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)

// link is one inline link of a Markdown file.
type link struct {
	line   int
	target string
}

// links returns md's inline links outside code (fenced blocks and inline
// code spans), in order.
func links(md string) []link {
	var out []link
	for i, line := range strings.Split(prose(md), "\n") {
		line = inlineCode.ReplaceAllString(line, "``")
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			out = append(out, link{line: i + 1, target: m[2]})
		}
	}
	return out
}

func TestFences(t *testing.T) {
	md := "# T\n\n```sh quickstart\necho hi\n```\n\ntext\n\n  ```text output\nhi\n```\n```\nplain\n```\n"
	got := fences(md)
	if len(got) != 3 {
		t.Fatalf("fences = %+v, want 3", got)
	}
	if got[0].line != 3 || got[0].lang != "sh" || !got[0].has("quickstart") || got[0].text != "echo hi\n" {
		t.Errorf("first block = %+v", got[0])
	}
	if got[1].lang != "text" || !got[1].has("output") || got[1].text != "hi\n" {
		t.Errorf("second block = %+v", got[1])
	}
	if got[2].lang != "" || len(got[2].tags) != 0 || got[2].text != "plain\n" {
		t.Errorf("third block = %+v", got[2])
	}
}

func TestAnchorsAndLinks(t *testing.T) {
	md := "# Signing in\n## Sign-up, mailbox proof and password reset\n## TEN — tenancy and isolation\n" +
		"## `audit verify`\n## Notes\n## Notes\n\nSee [a](x.md#notes-1) and `[not](code.md)`.\n```\n[nor](fenced.md)\n```\n"
	a := anchors(md)
	for _, want := range []string{"signing-in", "sign-up-mailbox-proof-and-password-reset", "ten--tenancy-and-isolation", "audit-verify", "notes", "notes-1"} {
		if !a[want] {
			t.Errorf("anchor %q missing from %v", want, a)
		}
	}
	l := links(md)
	if len(l) != 1 || l[0].target != "x.md#notes-1" || l[0].line != 8 {
		t.Errorf("links = %+v, want only x.md#notes-1 on line 8", l)
	}
}
