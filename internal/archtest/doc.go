// Package archtest enforces Stockade's layering rules. Its test walks the
// whole module, reads the import block of every .go file (test files too)
// and fails with one line per import that crosses a forbidden boundary.
//
// Paths below are relative to the module path github.com/stockadehq/stockade;
// "std" is the standard library (an import whose first element has no dot).
//
//	rule  package            may import
//	R1    ports              std, github.com/google/uuid
//	R2    ports/porttest     std, ports, github.com/google/uuid,
//	                         github.com/stretchr/testify/...; nothing else
//	R3    core/...           std except database/sql, ports, core/..., webhooks,
//	                         events, third-party modules in CoreThirdParty
//	                         (github.com/google/uuid, golang.org/x/crypto);
//	                         never adapters, app, internal, zap, fx,
//	                         database drivers or database/sql
//	R4    adapters/X/...     std, third-party, ports, internal/...,
//	                         adapters/X/...; never core, app, examples,
//	                         another adapter adapters/Y, or fx
//	R5    internal/...       std, third-party, ports, internal/...;
//	                         never app, core, adapters or examples
//	R5    internal/testinfra std and third-party only: nothing from the module
//	R5    (everyone)         never internal/archtest (test tooling)
//	R6    (everyone)         go.uber.org/fx/... only under app/ and examples/
//	R7    examples/E/...     std, third-party, ports, core, adapters, app,
//	                         webhooks, events, examples/E/...; never
//	                         internal/..., not even from tests (users copy
//	                         examples, and cannot import our internal
//	                         packages); its tests may import stockadetest
//	                         and ports/porttest (R8)
//	R9    stockadetest/...   std, ports, adapters/..., app/...,
//	                         internal/testinfra, internal/smtptest (the kit's
//	                         browser and mail server for an app's page tests),
//	                         github.com/stretchr/testify/...,
//	                         stockadetest/...; nothing else (not core, not
//	                         other internal packages, no other third party)
//	R10   webhooks/...       std and webhooks/... only, test files too: the
//	                         package receivers import to verify Stockade's
//	                         signed webhooks, without the rest of Stockade
//	R11   events/...         std and events/... only, test files too: the
//	                         event types and payloads app code subscribes
//	                         to (core publishes them)
//	      app/...            anything (subject to the archtest rule only)
//
// R8, test files (_test.go): a test file follows the rules of its package,
// but may additionally import ports/porttest, internal/testinfra and
// github.com/stretchr/testify/... . Those three are test-only: a non-test
// file may import them only from ports/porttest and internal/testinfra
// themselves (which exist to serve tests) and from app/..., which the rules
// leave unrestricted. So an adapter's test may run the porttest conformance
// suite against a database started by testinfra, but still never imports
// core, app or another adapter; a core test may use porttest but never
// adapters or app. The exception to the exception is R7: examples never
// import internal/..., so their tests may not use internal/testinfra.
//
// R8 also makes stockadetest, the public test kit, test-only: only _test.go
// files import it (a non-test file of stockadetest itself aside), and, unlike
// the helpers above, such a test file is still judged by its package's rule.
// So an example's or app's tests (R7, app) and the module root's may use the
// kit, which reaches the throwaway Postgres of internal/testinfra for them;
// tests under ports, porttest, core, adapters and internal may not (R1–R5),
// since the kit brings in adapters and app. Non-test files of stockadetest
// may import testify and internal/testinfra like porttest and testinfra do.
//
// An external test package (package foo_test) importing the package under
// test is always allowed. Packages outside the layout above (the module
// root, tools, ...) are subject only to the rules marked "everyone".
//
// The walker skips testdata, vendor, directories whose name begins with "."
// or "_", and nested modules (any subdirectory holding its own go.mod), as
// the go command does.
//
// [Check] is pure: it decides one file's imports without touching the disk,
// so the rules are unit-tested directly, and a separate test runs the walker
// on a throwaway module to prove a violation is reported end to end.
package archtest
