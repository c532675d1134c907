// Package testinfra starts real PostgreSQL, MinIO and stripe-mock processes
// for integration tests.
//
// A test binary that uses these helpers must route its TestMain through
// [Main], which stops every process the helpers started once the tests have
// run:
//
//	func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }
//
// Servers are started lazily, at most once per test binary, and shared by
// all tests in it. [StartPostgres] still gives every test its own database
// and roles, which are dropped when the test ends.
//
// When a binary or server is unavailable the helpers call [Missing], which
// skips the test, or fails it when STOCKADE_REQUIRE_INTEGRATION=1 (see
// [Require]). Every integration skip goes through Missing, which counts
// it, and [Main] ends the run with one line per test binary that had
// skips — shown by a plain `go test ./...`, which otherwise prints only
// "ok" for a package whose tests skipped:
//
//	testinfra: github.com/stockadehq/stockade/app/httpapi: 12 tests skipped: 12 need stripe-mock [to get it: go install …]; go test -v names them, STOCKADE_REQUIRE_INTEGRATION=1 makes them failures
//
// A harness that can run most of its tests without a part asks for it
// with [OptionalStripeMock] and leaves out only what needs it; those
// tests, or the cases left out, skip on their own ([SkipWithoutStripeMock]).
//
// Environment variables:
//
//	STOCKADE_REQUIRE_INTEGRATION=1  fail instead of skip when a part is missing
//	STOCKADE_TEST_POSTGRES_URL      superuser URL of an existing cluster to use
//	STOCKADE_TEST_PG_BIN            directory holding initdb and postgres
//	STOCKADE_TEST_S3_URL            http://ACCESS:SECRET@host:port of an existing S3 server
//	STOCKADE_TEST_MINIO_BIN         path of the minio binary
//	STOCKADE_TEST_STRIPE_MOCK_URL   http://host:port of a running stripe-mock
//	STOCKADE_TEST_STRIPE_MOCK_BIN   path of the stripe-mock binary
//	STOCKADE_TEST_CHROMIUM_BIN      path of the chromium binary (default /usr/bin/chromium)
package testinfra
