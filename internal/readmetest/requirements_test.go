package readmetest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// requirementsDoc is the requirements catalogue, relative to the root.
const requirementsDoc = "docs/requirements.md"

// familyHeading matches a catalogue section, "## TEN — tenancy and
// isolation": its family prefix.
var familyHeading = regexp.MustCompile(`^##\s+([A-Z]{2,5})\s+—`)

// catalogue is what docs/requirements.md defines.
type catalogue struct {
	families []string        // the ID prefixes, in the order of their sections
	defined  map[string]bool // every ID defined, "TEN-3"
}

// readCatalogue parses a requirements catalogue: its families from the
// section headings, and its IDs from the lines that define one — a list
// item, heading or table row that starts with the ID ("- TEN-3 Postgres
// row-level security …").
func readCatalogue(md string) (catalogue, error) {
	c := catalogue{defined: map[string]bool{}}
	for _, line := range strings.Split(md, "\n") {
		if m := familyHeading.FindStringSubmatch(line); m != nil {
			c.families = append(c.families, m[1])
		}
	}
	if len(c.families) == 0 {
		return c, fmt.Errorf("no family sections (\"## TEN — …\")")
	}
	def := regexp.MustCompile(`^(?:-|#{1,6}|\|)\s*(` + strings.Join(c.families, "|") + `)-([0-9]+)\b`)
	for _, line := range strings.Split(md, "\n") {
		if m := def.FindStringSubmatch(line); m != nil {
			id := m[1] + "-" + m[2]
			if c.defined[id] {
				return c, fmt.Errorf("%s is defined twice", id)
			}
			c.defined[id] = true
		}
	}
	return c, nil
}

// citation is one requirement ID cited in a file.
type citation struct {
	file string
	line int
	id   string
}

// citations returns the IDs of c's families that text cites; a range
// ("AUTH-1…10", "STO-1...4") cites both its ends.
func (c catalogue) citations(file, text string) []citation {
	re := regexp.MustCompile(`\b(` + strings.Join(c.families, "|") + `)-([0-9]+)(?:(?:…|\.\.\.?)([0-9]+))?\b`)
	var out []citation
	for i, line := range strings.Split(text, "\n") {
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			out = append(out, citation{file, i + 1, m[1] + "-" + m[2]})
			if m[3] != "" {
				out = append(out, citation{file, i + 1, m[1] + "-" + m[3]})
			}
		}
	}
	return out
}

// undefined returns the citations of text that c does not define.
func (c catalogue) undefined(file, text string) []citation {
	var out []citation
	for _, ct := range c.citations(file, text) {
		if !c.defined[ct.id] {
			out = append(out, ct)
		}
	}
	return out
}

// citedFiles are the files scanned for requirement IDs, by extension.
var citedFiles = map[string]bool{".go": true, ".md": true, ".sql": true, ".sh": true, ".txt": true, ".toml": true, ".yml": true, ".yaml": true}

// TestRequirementIDsResolve: every requirement ID cited anywhere in the
// repository — code, comments, tests, migrations, docs — is defined in
// docs/requirements.md, so a reader of the repository can look it up.
func TestRequirementIDsResolve(t *testing.T) {
	root := repoRoot(t)
	cat, err := readCatalogue(readFile(t, root, requirementsDoc))
	if err != nil {
		t.Fatalf("%s: %v", requirementsDoc, err)
	}
	if len(cat.defined) < 50 {
		t.Fatalf("%s defines %d requirements; the catalogue has more than 50", requirementsDoc, len(cat.defined))
	}
	cited := map[string]int{}
	var bad []citation
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "stockade-data" || rel == "docs/bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !citedFiles[filepath.Ext(path)] || rel == requirementsDoc {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, ct := range cat.citations(rel, string(b)) {
			cited[ct.id]++
			if !cat.defined[ct.id] {
				bad = append(bad, ct)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range bad {
		t.Errorf("%s:%d cites %s, which %s does not define", ct.file, ct.line, ct.id, requirementsDoc)
	}
	if len(cited) < 30 {
		t.Errorf("found %d distinct requirement IDs cited in the repository; the scan is missing files", len(cited))
	}
	ids := make([]string, 0, len(cited))
	for id := range cited {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	t.Logf("%d distinct requirement IDs cited: %s", len(ids), strings.Join(ids, " "))
}

func TestCatalogueParsingAndCitations(t *testing.T) {
	md := "# Catalogue\n\n## TEN — tenancy\n- TEN-1 Rows carry shop_id.\n- TEN-2 A guard.\n\n## AUTH — sign-in\n| AUTH-1 | passwords |\n### AUTH-2 Links\n"
	cat, err := readCatalogue(md)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cat.families, ",") != "TEN,AUTH" || len(cat.defined) != 4 {
		t.Fatalf("catalogue = %+v, want families TEN,AUTH and 4 IDs", cat)
	}
	text := "// TEN-2 holds; see AUTH-1…2, TEN-1...3 and TEN-9.\n// SHA-256, UTF-8 and PDF-1 are not requirements; nor is ATEN-1.\n"
	var got []string
	for _, ct := range cat.undefined("x.go", text) {
		got = append(got, fmt.Sprintf("%s:%d:%s", ct.file, ct.line, ct.id))
	}
	if want := "x.go:1:TEN-3 x.go:1:TEN-9"; strings.Join(got, " ") != want {
		t.Errorf("undefined = %q, want %q", got, want)
	}
	if _, err := readCatalogue("## TEN — a\n- TEN-1 a\n- TEN-1 again\n"); err == nil {
		t.Error("a catalogue defining TEN-1 twice was accepted")
	}
	if _, err := readCatalogue("# no sections\n- TEN-1 a\n"); err == nil {
		t.Error("a catalogue without family sections was accepted")
	}
}
