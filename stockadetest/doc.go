// Package stockadetest is the test kit for apps that embed Stockade: it
// gives an app's tests a ready store with the app's own migrations and
// tenant tables, on the embedded SQLite store or on a throwaway PostgreSQL
// database opened as the application role, and seeds shops and members
// through the public ports.
//
// Only _test.go files may import it (internal/archtest, rules R8 and R9).
//
// For tests of pages and mail, [StartBrowser] starts a headless Chromium
// (drive it with github.com/chromedp/chromedp) and [StartMailServer] an
// SMTP server in the test process that keeps what Stockade sends;
// examples/fieldservice/embed-fx's journey test uses both.
//
// [SQLite] needs nothing outside the test binary. [Postgres] starts a
// PostgreSQL cluster on first use, shared by the test binary, so a test
// binary that calls it must route its TestMain through [Main]:
//
//	func TestMain(m *testing.M) { os.Exit(stockadetest.Main(m)) }
//
// When PostgreSQL is not installed, [Postgres] skips the test with the
// reason and how to get it, or fails it when STOCKADE_REQUIRE_INTEGRATION=1.
// STOCKADE_TEST_POSTGRES_URL (the superuser URL of an existing cluster) and
// STOCKADE_TEST_PG_BIN (a directory holding initdb and postgres) choose the
// cluster; otherwise initdb and postgres are looked up on PATH and then
// under /usr/lib/postgresql/*/bin.
//
// A typical table-driven test runs the same assertions on both stores:
//
//	for name, open := range map[string]func(testing.TB, ...stockadetest.Option) ports.Store{
//		"sqlite":   func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.SQLite(t, o...) },
//		"postgres": func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.Postgres(t, o...) },
//	} {
//		t.Run(name, func(t *testing.T) {
//			store := open(t, stockadetest.WithAppMigrations("myapp", pgFS, liteFS), stockadetest.WithAppTables(tables...))
//			shop := stockadetest.NewShop(t, store)
//			// ...
//		})
//	}
package stockadetest
