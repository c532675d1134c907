package readmetest

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// pendingDocs are documents the README links that other branches add; the
// test accepts that they are missing, and fails once one exists so that
// its entry is removed and its links checked like every other.
var pendingDocs = map[string]bool{}

// docFiles returns README.md and every Markdown file under docs/,
// relative to root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestDocLinksResolve: every relative link in README.md and docs/ names a
// file or directory of the repository, and its #fragment, when it has one
// and names a Markdown file, one of that file's headings. No document
// points outside the repository (../shared/…).
func TestDocLinksResolve(t *testing.T) {
	root := repoRoot(t)
	for p := range pendingDocs {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil {
			t.Errorf("%s exists now: remove it from pendingDocs in links_test.go", p)
		}
	}
	anchorsOf := map[string]map[string]bool{}
	anchorsFor := func(rel string) map[string]bool {
		if a, ok := anchorsOf[rel]; ok {
			return a
		}
		anchorsOf[rel] = anchors(readFile(t, root, rel))
		return anchorsOf[rel]
	}
	checked := 0
	for _, file := range docFiles(t, root) {
		text := readFile(t, root, file)
		if strings.Contains(text, "../shared/") {
			t.Errorf("%s mentions ../shared/, which is outside the repository: link the copy under docs/", file)
		}
		for _, l := range links(text) {
			target := l.target
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			where, frag, _ := strings.Cut(target, "#")
			rel := file
			if where != "" {
				rel = path.Clean(path.Join(path.Dir(file), where))
			}
			if rel == ".." || strings.HasPrefix(rel, "../") {
				t.Errorf("%s:%d links %q, outside the repository", file, l.line, target)
				continue
			}
			if pendingDocs[rel] {
				continue
			}
			info, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				t.Errorf("%s:%d links %q: %s does not exist", file, l.line, target, rel)
				continue
			}
			if frag != "" && !info.IsDir() && strings.HasSuffix(rel, ".md") && !anchorsFor(rel)[frag] {
				t.Errorf("%s:%d links %q: %s has no heading with the anchor #%s", file, l.line, target, rel, frag)
			}
		}
	}
	if checked < 40 {
		t.Errorf("checked %d links; README.md and docs/ hold more", checked)
	}
}
