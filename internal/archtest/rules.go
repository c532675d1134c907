package archtest

import (
	"fmt"
	"strings"
)

// CoreThirdParty lists the only third-party modules (and their packages) that
// core/... may import. Widen it deliberately, in review, never to silence the
// test: core talks to the outside world through ports.
var CoreThirdParty = []string{
	"github.com/google/uuid",
	"golang.org/x/crypto",
	"github.com/tink-crypto/tink-go/v2", // a vetted streaming AEAD for envelope encryption (STO-4): home-made framing is forbidden
	"golang.org/x/mod/sumdb/note",       // signed-note checkpoints of the audit chain (AUD-4 names the format)
	"github.com/pquerna/otp",            // RFC 6238/4226 codes, otpauth:// URIs and their QR codes (AUTH-11, issue 20 names it): pure computation, no I/O
	"github.com/go-webauthn/webauthn",   // WebAuthn ceremonies and assertion verification (AUTH-12, issue 20 names it); core uses the byte-level Parse/Validate calls, no metadata service (no I/O)
}

// Third-party modules the rules name.
const (
	modUUID    = "github.com/google/uuid"
	modTestify = "github.com/stretchr/testify"
	modFx      = "go.uber.org/fx"
	modZap     = "go.uber.org/zap"
)

// Violation is one import that breaks a layering rule.
type Violation struct {
	Package string // import path of the importing package
	File    string // module-relative, slash-separated file name; empty from Check
	Import  string // the offending import path
	Rule    string // rule id and reason, e.g. "R1 ports: ..."
}

// String renders the violation as one line:
//
//	ports/x.go: github.com/stockadehq/stockade/ports imports go.uber.org/zap: R1 ports: ...
func (v Violation) String() string {
	where := v.Package
	if v.File != "" {
		where = v.File + ": " + v.Package
	}
	return fmt.Sprintf("%s imports %s: %s", where, v.Import, v.Rule)
}

// layer is where a package sits in the architecture.
type layer int

const (
	layerOther     layer = iota // module root or a folder outside the layout
	layerPorts                  // ports and its subpackages other than porttest
	layerPortTest               // ports/porttest/...
	layerCore                   // core/...
	layerAdapter                // adapters/<name>/...
	layerApp                    // app/...
	layerExamples               // examples/<name>/...
	layerTestinfra              // internal/testinfra/...
	layerArchtest               // internal/archtest/...
	layerInternal               // every other internal/...
	layerKit                    // stockadetest/...: the public test kit
	layerReceiver               // webhooks/...: the receivers' verifier, std only
	layerEvents                 // events/...: the public event types, std only
)

// place is a classified module package: its layer, and for adapters and
// examples the name of the adapter or example it belongs to.
type place struct {
	layer layer
	name  string
}

// under reports whether path is prefix or lies below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// isStd reports whether path is a standard-library import: its first element
// has no dot ("C" and "unsafe" count too).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// adapterName names an adapter for a message: "adapters/sqlite", or
// "adapters" for the folder's own package.
func adapterName(name string) string {
	return strings.TrimSuffix("adapters/"+name, "/")
}

// rel returns path relative to module and whether path is in the module.
func rel(module, path string) (string, bool) {
	if path == module {
		return "", true
	}
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r, true
	}
	return "", false
}

// classify places a module-relative package path in the architecture.
func classify(r string) place {
	first, rest, _ := strings.Cut(r, "/")
	second, _, _ := strings.Cut(rest, "/")
	switch {
	case under(r, "ports/porttest"):
		return place{layer: layerPortTest}
	case first == "ports":
		return place{layer: layerPorts}
	case first == "core":
		return place{layer: layerCore}
	case first == "adapters":
		return place{layer: layerAdapter, name: second}
	case first == "app":
		return place{layer: layerApp}
	case first == "examples":
		return place{layer: layerExamples, name: second}
	case under(r, "internal/testinfra"):
		return place{layer: layerTestinfra}
	case under(r, "internal/archtest"):
		return place{layer: layerArchtest}
	case first == "internal":
		return place{layer: layerInternal}
	case first == "stockadetest":
		return place{layer: layerKit}
	case first == "webhooks":
		return place{layer: layerReceiver}
	case first == "events":
		return place{layer: layerEvents}
	}
	return place{layer: layerOther}
}

// Check applies the layering rules to the imports of one file of package pkg
// (a full import path in module). isTest marks a _test.go file. It returns
// one Violation per offending import, with File left empty, and nil when the
// file is clean. Check is pure: it reads nothing but its arguments.
func Check(module, pkg string, isTest bool, imports []string) []Violation {
	r, ok := rel(module, pkg)
	if !ok {
		return nil // not ours to judge
	}
	from := classify(r)
	var out []Violation
	for _, imp := range imports {
		if reason := judge(module, pkg, from, isTest, imp); reason != "" {
			out = append(out, Violation{Package: pkg, Import: imp, Rule: reason})
		}
	}
	return out
}

// judge returns why a file in from may not import imp, or "" if it may.
// The first rule that applies gives the reason, so each bad import is
// reported once.
func judge(module, pkg string, from place, isTest bool, imp string) string {
	if imp == pkg {
		return "" // an external test package importing the package under test
	}
	std := isStd(imp)
	impRel, inModule := rel(module, imp)
	var to place
	if inModule {
		to = classify(impRel)
	}

	// Rules that hold for every package, test files included.
	if !std && !inModule && under(imp, modFx) &&
		from.layer != layerApp && from.layer != layerExamples {
		return "R6 fx: go.uber.org/fx may be imported only under app/ and examples/"
	}
	if inModule && to.layer == layerArchtest && from.layer != layerArchtest {
		return "R5 internal: internal/archtest is test tooling; nothing imports it"
	}
	if from.layer == layerExamples && inModule && under(impRel, "internal") {
		return "R7 examples: examples must not import internal/...; they show the public API only"
	}

	// R10: receivers import webhooks alone, so it and its tests (which,
	// unlike other packages' tests, get no R8 helpers) stay std only.
	if from.layer == layerReceiver && !std && !(inModule && to.layer == layerReceiver) {
		return "R10 webhooks: webhooks is imported by receivers of Stockade's webhooks and may import only the standard library (tests too)"
	}

	// R11: app code imports events to subscribe to Stockade's events, and
	// core to publish them, so it stays std only, tests too.
	if from.layer == layerEvents && !std && !(inModule && to.layer == layerEvents) {
		return "R11 events: events is imported by app code and core and may import only the standard library (tests too)"
	}

	// R8: the public test kit is for _test.go files, of any layer whose
	// own rule lets it import the kit (R7 lets examples' tests; R1–R5 keep
	// ports, porttest, core, adapters and internal from it). Unlike the
	// helpers below, a test file importing it is still judged by its
	// package's rule.
	if inModule && to.layer == layerKit && from.layer != layerKit && !isTest {
		return "R8 test-only: " + imp + " may be imported only from _test.go files"
	}

	// R8: the test helpers (porttest, testinfra, oidctest, smtptest, testify) are for
	// _test.go files. porttest, testinfra and stockadetest are test helpers themselves
	// (R2, R5 and R9 decide what they import) and app is unrestricted.
	testOnly := (inModule && (to.layer == layerPortTest || to.layer == layerTestinfra || under(impRel, "internal/oidctest") || under(impRel, "internal/smtptest"))) ||
		(!inModule && under(imp, modTestify))
	if testOnly {
		if isTest {
			return ""
		}
		switch from.layer {
		case layerApp, layerPortTest, layerTestinfra, layerKit:
		default:
			return "R8 test-only: " + imp + " may be imported only from _test.go files"
		}
	}

	switch from.layer {
	case layerPorts:
		if std || under(imp, modUUID) {
			return ""
		}
		return "R1 ports: ports may import only the standard library and github.com/google/uuid"

	case layerPortTest:
		switch {
		case std, under(imp, modUUID), under(imp, modTestify):
			return ""
		case inModule && (to.layer == layerPorts || to.layer == layerPortTest):
			return ""
		}
		return "R2 porttest: ports/porttest may import only the standard library, ports, github.com/google/uuid and github.com/stretchr/testify"

	case layerCore:
		switch {
		case std && under(imp, "database/sql"):
			return "R3 core: database/sql is forbidden in core; core talks to storage through ports"
		case std:
			return ""
		case inModule:
			switch to.layer {
			case layerPorts, layerCore, layerReceiver, layerEvents:
				return ""
			case layerAdapter, layerApp:
				return "R3 core: core must never depend on adapters or app"
			}
			return "R3 core: core may import only ports, webhooks, events and other core packages from the module"
		case under(imp, modZap):
			return "R3 core: zap is forbidden in core; log through *slog.Logger"
		}
		for _, allowed := range CoreThirdParty {
			if under(imp, allowed) {
				return ""
			}
		}
		return "R3 core: third-party module not in archtest.CoreThirdParty"

	case layerAdapter:
		if !inModule {
			return "" // std and third-party (fx was screened above)
		}
		switch to.layer {
		case layerPorts, layerInternal:
			return ""
		case layerAdapter:
			if to.name == from.name {
				return ""
			}
			return "R4 adapters: " + adapterName(from.name) + " must not import another adapter (" + adapterName(to.name) + ")"
		case layerCore:
			return "R4 adapters: adapters must not import core"
		case layerApp:
			return "R4 adapters: adapters must not import app"
		}
		return "R4 adapters: adapters may import only ports, internal/... and their own packages from the module"

	case layerTestinfra:
		if !inModule || to.layer == layerTestinfra {
			return ""
		}
		return "R5 internal: internal/testinfra must not import anything from the module"

	case layerInternal, layerArchtest:
		if !inModule {
			return ""
		}
		switch to.layer {
		case layerPorts, layerInternal, layerArchtest:
			return ""
		}
		return "R5 internal: internal packages stay leaf-like: never app, core, adapters or examples"

	case layerKit:
		switch {
		case std, under(imp, modTestify):
			return ""
		case inModule && (to.layer == layerPorts || to.layer == layerAdapter || to.layer == layerApp ||
			to.layer == layerTestinfra || to.layer == layerKit || under(impRel, "internal/smtptest")):
			return ""
		}
		return "R9 stockadetest: the test kit may import only the standard library, ports, adapters, app, internal/testinfra, internal/smtptest and github.com/stretchr/testify"

	case layerExamples:
		if !inModule {
			return ""
		}
		switch to.layer {
		case layerPorts, layerCore, layerAdapter, layerApp, layerReceiver, layerEvents:
			return ""
		case layerKit:
			return "" // test files only: R8 refused the others above
		case layerExamples:
			if to.name == from.name {
				return ""
			}
			return "R7 examples: an example must not import another example"
		}
		return "R7 examples: examples may import only ports, core, adapters, app, webhooks and events from the module"
	}
	return "" // app/... and packages outside the layout: global rules only
}
