// Command refdocs writes Stockade's generated reference documentation to
// docs/reference: the HTTP routes (routes.md) and their OpenAPI 3.1
// document (openapi.json) from the router's API.Routes, the settings
// (settings.md) from app.Config and its doc comments, and the command
// line (cli.md) from the cobra tree of app/cli. Run it from the module
// root after changing any of them:
//
//	go run ./scripts/refdocs
//
// Its test fails when a committed file differs from what the code
// generates.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	root := flag.String("root", ".", "the module root (holds go.mod, app/ and docs/)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "refdocs:", err)
		os.Exit(1)
	}
}

// run writes every generated file under root's docs/reference.
func run(root string) error {
	files, err := generate(root)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, referenceDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Println("wrote", filepath.ToSlash(filepath.Join(referenceDir, name)))
	}
	return nil
}
