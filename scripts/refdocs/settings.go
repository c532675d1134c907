package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/app"
)

// setting is one configuration setting as settings.md lists it.
type setting struct {
	key   string // the dotted TOML key, e.g. "http.addr"
	env   string // its environment variable
	kind  string // string, boolean, integer or duration
	doc   string // the field's doc comment
	index []int  // the field in app.Config, for reflect's FieldByIndex
}

// section is one TOML table of settings (the top level has none).
type section struct {
	table    string // "" for the top level
	doc      string // the doc comment of the table's Go type
	settings []setting
}

// settingsMarkdown renders settings.md from app.Config: the settings by
// the koanf tags of its fields, their descriptions from the fields' doc
// comments in root/app (which, by the package's convention, name the
// variable and say the default), and their environment variables — each
// proved by loading a value through app.LoadConfig, so the page cannot
// name a variable the server ignores.
func settingsMarkdown(root string) ([]byte, error) {
	docs, err := parseDocs(filepath.Join(root, "app"))
	if err != nil {
		return nil, err
	}
	cfg := reflect.TypeFor[app.Config]()
	top := &section{}
	sections := []*section{top}
	for i := range cfg.NumField() {
		f := cfg.Field(i)
		name := koanfName(f)
		if f.Type.Kind() == reflect.Struct && name != "" {
			s := &section{table: name, doc: docs.types[f.Type.Name()]}
			if err := collect(docs, f.Type, name+".", []int{i}, &s.settings); err != nil {
				return nil, err
			}
			sections = append(sections, s)
			continue
		}
		if err := collectField(docs, cfg, f, "", []int{i}, &top.settings); err != nil {
			return nil, err
		}
	}
	for _, s := range sections {
		for i := range s.settings {
			if err := proveEnv(&s.settings[i]); err != nil {
				return nil, err
			}
		}
	}

	var b bytes.Buffer
	b.WriteString("# Settings\n\n")
	b.WriteString(generatedNote("`app.Config` (its fields' koanf tags and doc comments); every variable is proved by `app.LoadConfig`"))
	fmt.Fprintf(&b, "Stockade reads its settings from, in increasing precedence: the defaults, a TOML file (`--config` or `%s`), and `STOCKADE_*` environment variables; an empty variable counts as unset. In the file, a setting `http.addr` is `addr` in the `[http]` table. An unknown key in the file is an error; an unknown `STOCKADE_*` variable is ignored. `stockade serve` validates the whole configuration before it starts. Durations are Go durations such as `10s`, `15m` or `72h`. Each description ends with the variable and the default; a zero default often means a built-in value, which the description names.\n\n", app.EnvConfigFile)
	b.WriteString("| Setting | Environment variable | Type |\n| --- | --- | --- |\n")
	for _, s := range sections {
		for _, st := range s.settings {
			fmt.Fprintf(&b, "| [`%s`](#%s) | `%s` | %s |\n", st.key, strings.ReplaceAll(st.key, ".", ""), st.env, st.kind)
		}
	}
	b.WriteString("\n")
	for _, s := range sections {
		if s.table == "" {
			b.WriteString("## Top level\n\n")
		} else {
			fmt.Fprintf(&b, "## [%s]\n\n", s.table)
		}
		if s.doc != "" {
			b.WriteString(s.doc + "\n\n")
		}
		for _, st := range s.settings {
			fmt.Fprintf(&b, "### %s\n\n", st.key)
			fmt.Fprintf(&b, "`%s` · %s\n\n", st.env, st.kind)
			b.WriteString(st.doc + "\n\n")
		}
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), nil
}

// koanfName is f's koanf key, "" for none.
func koanfName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
	return name
}

// collect adds the settings of the struct type t, whose keys start with
// prefix and whose fields sit at index under app.Config.
func collect(docs configDocs, t reflect.Type, prefix string, index []int, out *[]setting) error {
	for i := range t.NumField() {
		f := t.Field(i)
		at := append(append([]int(nil), index...), i)
		if f.Anonymous && strings.Contains(f.Tag.Get("koanf"), "squash") {
			if err := collect(docs, f.Type, prefix, at, out); err != nil {
				return err
			}
			continue
		}
		if err := collectField(docs, t, f, prefix, at, out); err != nil {
			return err
		}
	}
	return nil
}

// collectField adds the setting of field f of struct type owner.
func collectField(docs configDocs, owner reflect.Type, f reflect.StructField, prefix string, index []int, out *[]setting) error {
	name := koanfName(f)
	if name == "" || !f.IsExported() {
		return nil
	}
	key := prefix + name
	kind, err := kindOf(f.Type)
	if err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	doc := docs.fields[owner.Name()+"."+f.Name]
	if doc == "" {
		return fmt.Errorf("setting %s (%s.%s) has no doc comment: document it in app", key, owner.Name(), f.Name)
	}
	env := "STOCKADE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	if !strings.Contains(doc, env) {
		return fmt.Errorf("the doc comment of setting %s (%s.%s) does not name its variable %s: say it, and the default, as the other settings do", key, owner.Name(), f.Name, env)
	}
	*out = append(*out, setting{key: key, env: env, kind: kind, doc: doc, index: index})
	return nil
}

func kindOf(t reflect.Type) (string, error) {
	if t == reflect.TypeFor[time.Duration]() {
		return "duration", nil
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer", nil
	}
	return "", fmt.Errorf("a %s, which settings.md cannot describe: teach scripts/refdocs", t)
}

// proveEnv loads a value other than the default through st.env with
// app.LoadConfig and fails unless it lands in st's field: the variable
// and the key are the ones the server reads.
func proveEnv(st *setting) error {
	def := reflect.ValueOf(app.Default()).FieldByIndex(st.index)
	var raw string
	var want any
	switch st.kind {
	case "string":
		raw, want = "refdocs-probe", "refdocs-probe"
	case "boolean":
		want = !def.Bool()
		raw = strconv.FormatBool(want.(bool))
	case "integer":
		n := def.Int() + 7
		raw, want = strconv.FormatInt(n, 10), n
	case "duration":
		d := time.Duration(def.Int()) + 7*time.Second
		raw, want = d.String(), int64(d)
	}
	cfg, err := app.LoadConfig([]string{st.env + "=" + raw}, "")
	if err != nil {
		return fmt.Errorf("setting %s: %s=%s: %w", st.key, st.env, raw, err)
	}
	got := reflect.ValueOf(cfg).FieldByIndex(st.index)
	var have any
	switch st.kind {
	case "string":
		have = got.String()
	case "boolean":
		have = got.Bool()
	default:
		have = got.Int()
	}
	if have != want {
		return fmt.Errorf("setting %s: %s=%s did not set it (got %v): the variable or the key is not the one app.LoadConfig reads", st.key, st.env, raw, have)
	}
	return nil
}

// configDocs are the doc comments of package app's struct types and
// their fields ("Type.Field").
type configDocs struct {
	types  map[string]string
	fields map[string]string
}

// parseDocs reads the doc comments of the struct types in dir's non-test
// Go files. A field without a comment of its own, declared on the line
// right after another field, shares that field's comment ("AccessKey and
// SecretKey authenticate…").
func parseDocs(dir string) (configDocs, error) {
	out := configDocs{types: map[string]string{}, fields: map[string]string{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return out, fmt.Errorf("list %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return out, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return out, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				out.types[ts.Name.Name] = prose(doc)
				var prev string
				prevEnd := -1
				for _, field := range st.Fields.List {
					text := prose(field.Doc)
					if text == "" && fset.Position(field.Pos()).Line == prevEnd+1 {
						text = prev
					}
					for _, n := range field.Names {
						out.fields[ts.Name.Name+"."+n.Name] = text
					}
					if len(field.Names) == 0 { // embedded
						out.fields[ts.Name.Name+"."+typeName(field.Type)] = text
					}
					prev, prevEnd = text, fset.Position(field.End()).Line
				}
			}
		}
	}
	return out, nil
}

func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	}
	return ""
}

// prose is a doc comment as Markdown paragraphs: lines joined, blank
// lines kept as paragraph breaks, < and > escaped (DataDir/<name> is no
// HTML tag).
func prose(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	var paras []string
	for p := range strings.SplitSeq(strings.TrimSpace(cg.Text()), "\n\n") {
		p = strings.Join(strings.Fields(p), " ")
		paras = append(paras, strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(p))
	}
	return strings.Join(paras, "\n\n")
}
