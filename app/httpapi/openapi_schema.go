package httpapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// schema is a JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1),
// built as a map so that encoding/json writes it with sorted keys.
type schema = map[string]any

// schemaMode says which side of the wire a Go type is described for.
type schemaMode int

const (
	// readMode describes what decodeJSON reads into the type: every field
	// optional (an absent field is its zero value, which the use case
	// judges), unknown fields refused (additionalProperties false).
	readMode schemaMode = iota + 1
	// writeMode describes what encoding/json writes from the type: a
	// field without omitempty or omitzero is always present (required).
	writeMode
)

// schemaSet derives JSON Schemas from Go types, following encoding/json's
// rules for names, embedding and the "-", omitempty, omitzero and string
// options. A named struct type becomes a component (#/components/schemas/
// Name, Name its Go name with the first letter upper-cased) referenced
// with $ref; an unnamed one is inlined. A struct field's `doc` tag becomes
// its description.
type schemaSet struct {
	components map[string]schema
	byType     map[reflect.Type]string // component name of each named struct seen
	modes      map[reflect.Type]schemaMode
}

func newSchemaSet() *schemaSet {
	return &schemaSet{components: map[string]schema{}, byType: map[reflect.Type]string{}, modes: map[reflect.Type]schemaMode{}}
}

// of returns the schema of t in mode: a $ref for a named struct type.
func (s *schemaSet) of(t reflect.Type, mode schemaMode) (schema, error) {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return schema{"type": "string", "format": "date-time"}, nil
	case t == reflect.TypeFor[json.RawMessage]():
		return schema{}, nil
	case reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || t.Implements(reflect.TypeFor[json.Marshaler]()):
		return nil, fmt.Errorf("%s has a JSON form of its own, which the schema cannot derive: describe it by hand", t)
	case reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]()):
		return schema{"type": "string"}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return schema{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}, nil
	case reflect.String:
		return schema{"type": "string"}, nil
	case reflect.Interface:
		return schema{}, nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return schema{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := s.of(t.Elem(), mode)
		if err != nil {
			return nil, err
		}
		out := schema{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			out["minItems"], out["maxItems"] = t.Len(), t.Len()
		}
		return out, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: only maps with string keys have a JSON object form", t)
		}
		values, err := s.of(t.Elem(), mode)
		if err != nil {
			return nil, err
		}
		return schema{"type": "object", "additionalProperties": values}, nil
	case reflect.Pointer:
		inner, err := s.of(t.Elem(), mode)
		if err != nil {
			return nil, err
		}
		return nullable(inner), nil
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t, mode)
		}
		return s.component(t, mode)
	}
	return nil, fmt.Errorf("%s: a %s has no JSON form", t, t.Kind())
}

// nullable returns in, also admitting null (a nil pointer).
func nullable(in schema) schema {
	if typ, ok := in["type"].(string); ok {
		out := schema{}
		for k, v := range in {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		return out
	}
	return schema{"anyOf": []schema{in, {"type": "null"}}}
}

// component adds the named struct type t to the components (once) and
// returns a reference to it.
func (s *schemaSet) component(t reflect.Type, mode schemaMode) (schema, error) {
	if name, ok := s.byType[t]; ok {
		if s.modes[t] != mode {
			return nil, fmt.Errorf("%s is described both as a request and as a response body: give each side a type of its own", t)
		}
		return schema{"$ref": "#/components/schemas/" + name}, nil
	}
	name := componentName(t.Name())
	if _, taken := s.components[name]; taken {
		return nil, fmt.Errorf("two types are named %s in the OpenAPI components (one is %s): rename one", name, t)
	}
	s.byType[t], s.modes[t] = name, mode
	s.components[name] = schema{} // reserved: a recursive type refers to itself
	obj, err := s.object(t, mode)
	if err != nil {
		return nil, err
	}
	s.components[name] = obj
	return schema{"$ref": "#/components/schemas/" + name}, nil
}

// componentName is a Go type name made a component name: the first letter
// upper-cased, anything outside [A-Za-z0-9._-] (a generic type's
// brackets) replaced by "_".
func componentName(goName string) string {
	r := []rune(goName)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return strings.Map(func(c rune) rune {
		if c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '.' || c == '_' || c == '-') {
			return c
		}
		return '_'
	}, string(r))
}

// object describes the struct type t as a JSON object.
func (s *schemaSet) object(t reflect.Type, mode schemaMode) (schema, error) {
	props := schema{}
	var required []string
	if err := s.fields(t, mode, props, &required); err != nil {
		return nil, err
	}
	out := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	if mode == readMode {
		out["additionalProperties"] = false
	}
	return out, nil
}

// fields adds t's JSON fields to props (and required), flattening
// untagged embedded structs as encoding/json does.
func (s *schemaSet) fields(t reflect.Type, mode schemaMode, props schema, required *[]string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := s.fields(ft, mode, props, required); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := props[name]; dup {
			return fmt.Errorf("%s: two fields are named %q in JSON", t, name)
		}
		var fs schema
		var err error
		if hasOpt(opts, "string") && isScalar(ft) {
			fs = schema{"type": "string"}
		} else if fs, err = s.of(ft, mode); err != nil {
			return fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		if doc := f.Tag.Get("doc"); doc != "" {
			if _, isRef := fs["$ref"]; isRef {
				fs = schema{"allOf": []schema{fs}}
			} else {
				fs = copySchema(fs)
			}
			fs["description"] = doc
		}
		props[name] = fs
		if mode == writeMode && !hasOpt(opts, "omitempty") && !hasOpt(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
	return nil
}

func copySchema(in schema) schema {
	out := make(schema, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	return out
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// isScalar reports whether the ",string" option applies to t.
func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}
