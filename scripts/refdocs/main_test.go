package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// TestReferenceDocsAreCurrent fails when a file in docs/reference differs
// from what the code generates now (a route, setting or command changed
// without the reference following), or when one is missing or left over.
func TestReferenceDocsAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := generate(root)
	if err != nil {
		t.Fatalf("generate the reference docs: %v", err)
	}
	dir := filepath.Join(root, referenceDir)
	for _, name := range sortedNames(files) {
		committed, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s/%s: %v: run `%s` from the module root and commit the result", referenceDir, name, err, regenerate)
			continue
		}
		if string(committed) != string(files[name]) {
			t.Errorf("%s/%s is out of date with the code (%s): run `%s` from the module root and commit the result",
				referenceDir, name, firstDifference(string(committed), string(files[name])), regenerate)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s/%s is not generated: remove it, or teach scripts/refdocs to generate it", referenceDir, e.Name())
		}
	}
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// firstDifference names the first line where committed and generated
// differ.
func firstDifference(committed, generated string) string {
	a, b := strings.Split(committed, "\n"), strings.Split(generated, "\n")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("first at line %d: committed %s, generated %s", i+1, clip(x), clip(y))
		}
	}
	return "they differ"
}

// clip quotes s, cut to 100 bytes.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}

// TestCommittedOpenAPIValidates: the committed document is valid OpenAPI
// 3.1 (the served one is checked in app/httpapi).
func TestCommittedOpenAPIValidates(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", referenceDir, "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("the document's schemas do not build: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("invalid OpenAPI 3.1: %s: %s", e.Message, e.Reason)
		}
	}
}
