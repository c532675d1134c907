package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/canary"
)

// TestOpenAndMigrateErrorsLeakNoSecret is issue 16's canary over the
// SQLite adapter: database URLs that carry a secret where SQLite takes
// none (a password before the path, a query parameter, another
// database's URL given to the sqlite setting) are refused by Open and
// Migrate with errors that never hold the secret.
func TestOpenAndMigrateErrorsLeakNoSecret(t *testing.T) {
	const secret = "sqlite-Canary-pw-0123456789"
	sink := canary.New(t)
	sink.Secret("a password in the database URL", secret)
	dir := t.TempDir()
	ctx := context.Background()
	for _, c := range []struct{ name, url string }{
		{"password before the path", "sqlite://app:" + secret + "@" + filepath.Join(dir, "a.db")},
		{"password in the query", "sqlite://" + filepath.Join(dir, "b.db") + "?_auth_pass=" + secret},
		{"a Postgres URL", "postgres://app:" + secret + "@db:5432/stockade"},
		{"no scheme", "app:" + secret + "@" + filepath.Join(dir, "c.db")},
		{"bad escape", "sqlite://" + filepath.Join(dir, secret) + "%zz"},
	} {
		_, err := sqlite.Migrate(ctx, c.url)
		require.Error(t, err, c.name)
		sink.SeenError("Migrate ("+c.name+")", err)
		_, err = sqlite.Open(ctx, c.url)
		require.Error(t, err, c.name)
		sink.SeenError("Open ("+c.name+")", err)
	}
}
