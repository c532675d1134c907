package archtest

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// scan is what walking one module found.
type scan struct {
	module     string
	packages   map[string]int // import path -> number of .go files
	files      int
	violations []Violation
	errs       []error // unreadable directories and unparsable import blocks
}

// moduleRoot goes up from dir to the nearest directory holding a go.mod.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// modulePath reads the module path from the contents of a go.mod.
func modulePath(gomod []byte) (string, error) {
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		path := strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(path); err == nil {
			path = unq
		}
		if path != "" {
			return path, nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

// walk reads the import block of every .go file in the module rooted at root
// and checks it. It skips what the go command skips: testdata, vendor,
// names beginning with "." or "_", and nested modules.
func walk(root string) (scan, error) {
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return scan{}, err
	}
	module, err := modulePath(gomod)
	if err != nil {
		return scan{}, err
	}
	s := scan{module: module, packages: map[string]int{}}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			s.errs = append(s.errs, err) // e.g. a folder removed mid-walk
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module has its own rules
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		relFile, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		relFile = filepath.ToSlash(relFile)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %w", relFile, err))
			if f == nil {
				return nil
			}
		}
		imports := make([]string, 0, len(f.Imports))
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("%s: bad import %s", relFile, spec.Path.Value))
				continue
			}
			imports = append(imports, imp)
		}
		pkg := module
		if dir := filepath.ToSlash(filepath.Dir(relFile)); dir != "." {
			pkg = module + "/" + dir
		}
		s.files++
		s.packages[pkg]++
		for _, v := range Check(module, pkg, strings.HasSuffix(name, "_test.go"), imports) {
			v.File = relFile
			s.violations = append(s.violations, v)
		}
		return nil
	})
	return s, err
}

func TestLayering(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	s, err := walk(root)
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	for _, err := range s.errs {
		t.Errorf("cannot read imports: %v", err)
	}

	var portsPkgs []string
	for pkg := range s.packages {
		if under(pkg, s.module+"/ports") {
			portsPkgs = append(portsPkgs, pkg)
		}
	}
	sort.Strings(portsPkgs)
	if len(portsPkgs) < 1 {
		t.Errorf("found no package under %s/ports in %s: the walker is broken", s.module, root)
	}
	t.Logf("checked %d files in %d packages of %s (%d under ports: %s)",
		s.files, len(s.packages), s.module, len(portsPkgs), strings.Join(portsPkgs, ", "))

	for _, v := range s.violations {
		t.Errorf("layering violation: %s", v)
	}
	if n := len(s.violations); n > 0 {
		t.Errorf("%d layering violation(s); the rules are in internal/archtest/doc.go", n)
	}
}

func TestCheckRejectsForbiddenImports(t *testing.T) {
	const mod = "github.com/stockadehq/stockade"
	type give struct {
		pkg     string
		isTest  bool
		imports []string
	}
	tests := []struct {
		name string
		give give
		want []string // rule id of each violation, in import order; nil = clean
	}{
		// R1 ports
		{"ports importing zap", give{mod + "/ports", false, []string{"go.uber.org/zap"}}, []string{"R1"}},
		{"ports importing uuid", give{mod + "/ports", false, []string{"context", "github.com/google/uuid"}}, nil},
		{"ports importing sqlite driver", give{mod + "/ports", false, []string{"modernc.org/sqlite"}}, []string{"R1"}},
		{"ports importing core", give{mod + "/ports", false, []string{mod + "/core/auth"}}, []string{"R1"}},
		{"ports external test importing ports and testify", give{mod + "/ports", true, []string{mod + "/ports", "github.com/stretchr/testify/require"}}, nil},

		// R2 porttest
		{"porttest importing ports, uuid, testify", give{mod + "/ports/porttest", false, []string{mod + "/ports", "github.com/google/uuid", "github.com/stretchr/testify/assert"}}, nil},
		{"porttest importing an adapter", give{mod + "/ports/porttest", false, []string{mod + "/adapters/sqlite"}}, []string{"R2"}},
		{"porttest importing testinfra", give{mod + "/ports/porttest", false, []string{mod + "/internal/testinfra"}}, []string{"R2"}},
		{"porttest importing zap", give{mod + "/ports/porttest", false, []string{"go.uber.org/zap"}}, []string{"R2"}},

		// R3 core
		{"core/auth importing adapters/sqlite", give{mod + "/core/auth", false, []string{mod + "/adapters/sqlite"}}, []string{"R3"}},
		{"core/auth importing app", give{mod + "/core/auth", false, []string{mod + "/app/httpapi"}}, []string{"R3"}},
		{"core/auth importing fx", give{mod + "/core/auth", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"core/auth importing zap", give{mod + "/core/auth", false, []string{"go.uber.org/zap"}}, []string{"R3"}},
		{"core/auth importing database/sql", give{mod + "/core/auth", false, []string{"database/sql"}}, []string{"R3"}},
		{"core/auth importing database/sql/driver", give{mod + "/core/auth", false, []string{"database/sql/driver"}}, []string{"R3"}},
		{"core/auth importing pgx", give{mod + "/core/auth", false, []string{"github.com/jackc/pgx/v5"}}, []string{"R3"}},
		{"core/auth importing minio", give{mod + "/core/auth", false, []string{"github.com/minio/minio-go/v7"}}, []string{"R3"}},
		{"core/auth importing testinfra", give{mod + "/core/auth", false, []string{mod + "/internal/testinfra"}}, []string{"R8"}},
		{"core/auth importing OpenTelemetry", give{mod + "/core/auth", false, []string{"go.opentelemetry.io/otel/trace"}}, []string{"R3"}},
		{"ports importing OpenTelemetry", give{mod + "/ports", false, []string{"go.opentelemetry.io/otel"}}, []string{"R1"}},
		{"app importing OpenTelemetry", give{mod + "/app", false, []string{"go.opentelemetry.io/otel/trace", "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"}}, nil},
		{"core/auth importing argon2", give{mod + "/core/auth", false, []string{"golang.org/x/crypto/argon2"}}, nil},
		{"core/auth importing ports, core, slog, uuid", give{mod + "/core/auth", false, []string{mod + "/ports", mod + "/core/shop", "log/slog", "github.com/google/uuid"}}, nil},
		{"core/auth test importing porttest and testify", give{mod + "/core/auth", true, []string{mod + "/ports/porttest", "github.com/stretchr/testify/require"}}, nil},
		{"core/auth test importing adapters/sqlite", give{mod + "/core/auth", true, []string{mod + "/adapters/sqlite"}}, []string{"R3"}},
		{"core/auth non-test importing porttest", give{mod + "/core/auth", false, []string{mod + "/ports/porttest"}}, []string{"R8"}},

		// R4 adapters
		{"adapters/sqlite importing adapters/postgres", give{mod + "/adapters/sqlite", false, []string{mod + "/adapters/postgres"}}, []string{"R4"}},
		{"adapters/sqlite importing core/auth", give{mod + "/adapters/sqlite", false, []string{mod + "/core/auth"}}, []string{"R4"}},
		{"adapters/sqlite importing app", give{mod + "/adapters/sqlite", false, []string{mod + "/app"}}, []string{"R4"}},
		{"adapters/sqlite importing ports, sqlmigrate, drivers", give{mod + "/adapters/sqlite", false, []string{mod + "/ports", mod + "/internal/sqlmigrate", "database/sql", "modernc.org/sqlite", "github.com/jmoiron/sqlx"}}, nil},
		{"adapters/sqlite subpackage importing its adapter", give{mod + "/adapters/sqlite/migrations", false, []string{mod + "/adapters/sqlite"}}, nil},
		{"adapters/sqlite importing archtest", give{mod + "/adapters/sqlite", false, []string{mod + "/internal/archtest"}}, []string{"R5"}},
		{"adapters/sqlite non-test importing porttest", give{mod + "/adapters/sqlite", false, []string{mod + "/ports/porttest"}}, []string{"R8"}},
		{"adapters/oidc non-test importing oidctest", give{mod + "/adapters/oidc", false, []string{mod + "/internal/oidctest"}}, []string{"R8"}},
		{"adapters/oidc test importing oidctest", give{mod + "/adapters/oidc", true, []string{mod + "/internal/oidctest"}}, nil},
		{"adapters/smtp non-test importing smtptest", give{mod + "/adapters/smtp", false, []string{mod + "/internal/smtptest"}}, []string{"R8"}},
		{"core test importing smtptest", give{mod + "/core/messaging", true, []string{mod + "/internal/smtptest"}}, nil},
		{"adapters/sqlite test importing porttest", give{mod + "/adapters/sqlite", true, []string{mod + "/ports/porttest"}}, nil},
		{"adapters/sqlite test importing porttest, testinfra, itself", give{mod + "/adapters/sqlite", true, []string{mod + "/adapters/sqlite", mod + "/ports/porttest", mod + "/internal/testinfra"}}, nil},
		{"adapters/sqlite test importing adapters/postgres", give{mod + "/adapters/sqlite", true, []string{mod + "/adapters/postgres"}}, []string{"R4"}},
		{"adapters/sqlite test importing core", give{mod + "/adapters/sqlite", true, []string{mod + "/core/auth"}}, []string{"R4"}},
		{"adapters/s3 importing fx", give{mod + "/adapters/s3", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"adapters/s3 test importing fxtest", give{mod + "/adapters/s3", true, []string{"go.uber.org/fx/fxtest"}}, []string{"R6"}},

		// R5 internal
		{"internal/sqlmigrate importing app", give{mod + "/internal/sqlmigrate", false, []string{mod + "/app"}}, []string{"R5"}},
		{"internal/sqlmigrate importing core", give{mod + "/internal/sqlmigrate", false, []string{mod + "/core/auth"}}, []string{"R5"}},
		{"internal/sqlmigrate importing an adapter", give{mod + "/internal/sqlmigrate", false, []string{mod + "/adapters/sqlite"}}, []string{"R5"}},
		{"internal/sqlmigrate importing goose", give{mod + "/internal/sqlmigrate", false, []string{"github.com/pressly/goose/v3", "database/sql"}}, nil},
		{"internal/testinfra importing ports", give{mod + "/internal/testinfra", false, []string{mod + "/ports"}}, []string{"R5"}},
		{"internal/testinfra importing testify", give{mod + "/internal/testinfra", false, []string{"github.com/stretchr/testify/require", "testing"}}, nil},

		// R6 fx, app
		{"app/cli importing fx", give{mod + "/app/cli", false, []string{"go.uber.org/fx"}}, nil},
		{"app/cmd/stockade importing everything", give{mod + "/app/cmd/stockade", false, []string{mod + "/adapters/postgres", mod + "/core/auth", mod + "/internal/sqlmigrate", "go.uber.org/zap"}}, nil},
		{"internal/sqlmigrate importing fx", give{mod + "/internal/sqlmigrate", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"module root importing fx", give{mod, false, []string{"go.uber.org/fx"}}, []string{"R6"}},

		// R7 examples
		{"examples/embed importing testinfra", give{mod + "/examples/embed", false, []string{mod + "/internal/testinfra"}}, []string{"R7"}},
		{"examples/embed test importing testinfra", give{mod + "/examples/embed", true, []string{mod + "/internal/testinfra"}}, []string{"R7"}},
		{"examples/embed importing sqlmigrate", give{mod + "/examples/embed", false, []string{mod + "/internal/sqlmigrate"}}, []string{"R7"}},
		{"examples/embed importing the public layers and fx", give{mod + "/examples/embed", false, []string{mod + "/ports", mod + "/core/auth", mod + "/adapters/sqlite", mod + "/app/httpapi", "go.uber.org/fx"}}, nil},
		{"examples/embed importing another example", give{mod + "/examples/embed", false, []string{mod + "/examples/server"}}, []string{"R7"}},

		// R9 stockadetest, and who may import it (R8, R7)
		{"stockadetest importing ports, adapters, app, testinfra, testify", give{mod + "/stockadetest", false, []string{"context", "testing", mod + "/ports", mod + "/adapters/sqlite", mod + "/adapters/postgres", mod + "/app", mod + "/internal/testinfra", "github.com/stretchr/testify/require"}}, nil},
		{"stockadetest importing smtptest", give{mod + "/stockadetest", false, []string{mod + "/internal/smtptest"}}, nil},
		{"stockadetest importing oidctest", give{mod + "/stockadetest", false, []string{mod + "/internal/oidctest"}}, []string{"R9"}},
		{"stockadetest importing core", give{mod + "/stockadetest", false, []string{mod + "/core/access"}}, []string{"R9"}},
		{"stockadetest importing sqlmigrate", give{mod + "/stockadetest", false, []string{mod + "/internal/sqlmigrate"}}, []string{"R9"}},
		{"stockadetest importing porttest", give{mod + "/stockadetest", false, []string{mod + "/ports/porttest"}}, []string{"R9"}},
		{"stockadetest importing an example", give{mod + "/stockadetest", false, []string{mod + "/examples/fieldservice"}}, []string{"R9"}},
		{"stockadetest importing zap", give{mod + "/stockadetest", false, []string{"go.uber.org/zap"}}, []string{"R9"}},
		{"stockadetest importing fx", give{mod + "/stockadetest", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"stockadetest test importing itself, testinfra, testify", give{mod + "/stockadetest", true, []string{mod + "/stockadetest", mod + "/internal/testinfra", "github.com/stretchr/testify/assert"}}, nil},
		{"examples/embed test importing stockadetest", give{mod + "/examples/embed", true, []string{mod + "/stockadetest"}}, nil},
		{"examples/embed non-test importing stockadetest", give{mod + "/examples/embed", false, []string{mod + "/stockadetest"}}, []string{"R8"}},
		{"examples/embed test importing porttest", give{mod + "/examples/embed", true, []string{mod + "/ports/porttest"}}, nil},
		{"examples/embed non-test importing porttest", give{mod + "/examples/embed", false, []string{mod + "/ports/porttest"}}, []string{"R8"}},
		{"app non-test importing stockadetest", give{mod + "/app/cli", false, []string{mod + "/stockadetest"}}, []string{"R8"}},
		{"app test importing stockadetest", give{mod + "/app", true, []string{mod + "/stockadetest"}}, nil},
		{"module root non-test importing stockadetest", give{mod, false, []string{mod + "/stockadetest"}}, []string{"R8"}},
		{"porttest importing stockadetest", give{mod + "/ports/porttest", false, []string{mod + "/stockadetest"}}, []string{"R8"}},
		{"internal/testinfra importing stockadetest", give{mod + "/internal/testinfra", false, []string{mod + "/stockadetest"}}, []string{"R8"}},
		{"core/auth test importing stockadetest", give{mod + "/core/auth", true, []string{mod + "/stockadetest"}}, []string{"R3"}},
		{"adapters/sqlite test importing stockadetest", give{mod + "/adapters/sqlite", true, []string{mod + "/stockadetest"}}, []string{"R4"}},
		{"internal/sqlmigrate test importing stockadetest", give{mod + "/internal/sqlmigrate", true, []string{mod + "/stockadetest"}}, []string{"R5"}},
		{"ports test importing stockadetest", give{mod + "/ports", true, []string{mod + "/stockadetest"}}, []string{"R1"}},
		{"porttest test importing stockadetest", give{mod + "/ports/porttest", true, []string{mod + "/stockadetest"}}, []string{"R2"}},

		// R10 webhooks (the receivers' verifier)
		{"webhooks importing std", give{mod + "/webhooks", false, []string{"crypto/hmac", "net/http", "time"}}, nil},
		{"webhooks test importing itself and std", give{mod + "/webhooks", true, []string{mod + "/webhooks", "testing"}}, nil},
		{"webhooks importing ports", give{mod + "/webhooks", false, []string{mod + "/ports"}}, []string{"R10"}},
		{"webhooks importing uuid", give{mod + "/webhooks", false, []string{"github.com/google/uuid"}}, []string{"R10"}},
		{"webhooks test importing testify", give{mod + "/webhooks", true, []string{"github.com/stretchr/testify/require"}}, []string{"R10"}},
		{"webhooks test importing core", give{mod + "/webhooks", true, []string{mod + "/core/webhooks"}}, []string{"R10"}},
		{"webhooks importing fx", give{mod + "/webhooks", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"core/webhooks importing webhooks", give{mod + "/core/webhooks", false, []string{mod + "/webhooks", mod + "/ports"}}, nil},
		{"examples/embed importing webhooks", give{mod + "/examples/embed", false, []string{mod + "/webhooks"}}, nil},

		// R11 events (the public event types)
		{"events importing std", give{mod + "/events", false, []string{"context", "time", "encoding/json"}}, nil},
		{"events test importing itself and std", give{mod + "/events", true, []string{mod + "/events", "testing"}}, nil},
		{"events importing ports", give{mod + "/events", false, []string{mod + "/ports"}}, []string{"R11"}},
		{"events importing webhooks", give{mod + "/events", false, []string{mod + "/webhooks"}}, []string{"R11"}},
		{"events importing uuid", give{mod + "/events", false, []string{"github.com/google/uuid"}}, []string{"R11"}},
		{"events test importing testify", give{mod + "/events", true, []string{"github.com/stretchr/testify/require"}}, []string{"R11"}},
		{"events test importing core", give{mod + "/events", true, []string{mod + "/core/publish"}}, []string{"R11"}},
		{"events importing fx", give{mod + "/events", false, []string{"go.uber.org/fx"}}, []string{"R6"}},
		{"core/publish importing events, webhooks, core", give{mod + "/core/publish", false, []string{mod + "/events", mod + "/core/webhooks", mod + "/ports"}}, nil},
		{"examples/embed importing events", give{mod + "/examples/embed", false, []string{mod + "/events"}}, nil},
		{"adapters/sqlite importing events", give{mod + "/adapters/sqlite", false, []string{mod + "/events"}}, []string{"R4"}},
		{"ports importing events", give{mod + "/ports", false, []string{mod + "/events"}}, []string{"R1"}},

		// several imports: only the bad ones are reported, in order
		{"mixed imports", give{mod + "/core/billing", false, []string{"context", "go.uber.org/zap", mod + "/ports", "database/sql", mod + "/adapters/postgres"}}, []string{"R3", "R3", "R3"}},
		{"package outside the module", give{"example.com/other/ports", false, []string{"go.uber.org/zap"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(mod, tt.give.pkg, tt.give.isTest, tt.give.imports)
			var gotRules []string
			for _, v := range got {
				id, _, _ := strings.Cut(v.Rule, " ")
				gotRules = append(gotRules, id)
				if v.Package != tt.give.pkg || v.Rule == "" {
					t.Errorf("malformed violation %+v", v)
				}
			}
			if !reflect.DeepEqual(gotRules, tt.want) {
				t.Errorf("Check(%s, isTest=%v, %q) = %v, want rules %v", tt.give.pkg, tt.give.isTest, tt.give.imports, got, tt.want)
			}
		})
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{
		Package: "example.com/fake/ports",
		File:    "ports/x.go",
		Import:  "go.uber.org/zap",
		Rule:    "R1 ports: nope",
	}
	want := "ports/x.go: example.com/fake/ports imports go.uber.org/zap: R1 ports: nope"
	if got := v.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if strings.Contains(v.String(), "\n") {
		t.Error("a violation must render as one line")
	}
}

func TestModulePath(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{give: "module github.com/stockadehq/stockade\n\ngo 1.26.0\n", want: "github.com/stockadehq/stockade"},
		{give: "// a comment\nmodule\t\"example.com/q\" // trailing\n", want: "example.com/q"},
		{give: "go 1.26\nmodulex foo\n", wantErr: true},
		{give: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := modulePath([]byte(tt.give))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("modulePath(%q) = %q, %v; want %q, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestWalkReportsViolationEndToEnd builds a throwaway module with exactly one
// bad import, plus bad imports hidden where the walker must not look, and
// checks the walker finds that one and nothing else.
func TestWalkReportsViolationEndToEnd(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":               "module example.com/fake\n\ngo 1.26\n",
		"ports/x.go":           "package ports\n\nimport \"go.uber.org/zap\"\n\nvar _ = zap.L\n",
		"ports/id.go":          "package ports\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/uuid\"\n)\n",
		"core/auth/auth.go":    "package auth\n\nimport (\n\t\"example.com/fake/ports\"\n\t\"golang.org/x/crypto/argon2\"\n)\n",
		"adapters/sqlite/s.go": "package sqlite\n\nimport _ \"modernc.org/sqlite\"\n",
		"adapters/sqlite/s_test.go": "package sqlite_test\n\nimport (\n\t\"testing\"\n\n" +
			"\t\"example.com/fake/adapters/sqlite\"\n\t\"example.com/fake/ports/porttest\"\n)\n",
		"app/cli/cli.go": "package cli\n\nimport \"go.uber.org/fx\"\n",
		// Bad imports the walker must skip.
		"ports/testdata/bad.go":   "package bad\n\nimport \"example.com/fake/adapters/sqlite\"\n",
		"ports/.hidden/bad.go":    "package bad\n\nimport \"go.uber.org/fx\"\n",
		"ports/_scratch/bad.go":   "package bad\n\nimport \"go.uber.org/fx\"\n",
		"vendor/x/bad.go":         "package x\n\nimport \"go.uber.org/fx\"\n",
		"nested/go.mod":           "module example.com/nested\n",
		"nested/ports/bad.go":     "package ports\n\nimport \"go.uber.org/fx\"\n",
		"core/auth/notes.txt":     "import \"go.uber.org/fx\"\n",
		"core/auth/.#auth.go":     "package auth\n\nimport \"go.uber.org/fx\"\n",
		"core/auth/_old_auth.go":  "package auth\n\nimport \"go.uber.org/fx\"\n",
		"examples/embed/main.go":  "package main\n\nimport \"example.com/fake/adapters/sqlite\"\n",
		"internal/archtest/x.go":  "package archtest\n",
		"internal/testinfra/t.go": "package testinfra\n\nimport \"github.com/stretchr/testify/require\"\n",
	}
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	found, err := moduleRoot(filepath.Join(root, "core", "auth"))
	if err != nil || found != root {
		t.Fatalf("moduleRoot(core/auth) = %q, %v; want %q", found, err, root)
	}
	s, err := walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.errs) > 0 {
		t.Fatalf("walk errors: %v", s.errs)
	}
	if s.module != "example.com/fake" {
		t.Errorf("module = %q, want example.com/fake", s.module)
	}
	if s.files != 9 {
		t.Errorf("walked %d files, want 9 (the skipped folders and files leaked in?): %v", s.files, s.packages)
	}
	if len(s.violations) != 1 {
		t.Fatalf("got %d violations, want exactly 1:\n%s", len(s.violations), render(s.violations))
	}
	got := s.violations[0]
	want := Violation{Package: "example.com/fake/ports", File: "ports/x.go", Import: "go.uber.org/zap"}
	if got.Package != want.Package || got.File != want.File || got.Import != want.Import ||
		!strings.HasPrefix(got.Rule, "R1 ") {
		t.Errorf("got violation %s, want %s with rule R1", got, want)
	}
	t.Logf("reported: %s", got)
}

func render(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String())
		b.WriteByte('\n')
	}
	return b.String()
}
