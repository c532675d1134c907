package postgres_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestOpenAndMigrateErrorsLeakNoPassword is issue 16's canary over the
// Postgres adapter: Open and Migrate given a URL with a canary password
// that the server refuses, that reaches no server, that names an unknown
// database, or that carries a bad parameter (in the URL and in the
// key=value form, the password also in the query) answer errors that
// never hold the password.
func TestOpenAndMigrateErrorsLeakNoPassword(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	const password = "pg-Canary-pw-0123456789"
	sink := canary.New(t)
	sink.Secret("the database password", password)
	app, err := url.Parse(pg.AppURL)
	require.NoError(t, err)
	withPassword := func(u url.URL, db string, query string) string {
		u.User = url.UserPassword(u.User.Username(), password)
		if db != "" {
			u.Path = "/" + db
		}
		if query != "" {
			u.RawQuery = query
		}
		return u.String()
	}
	unreachable := *app
	unreachable.Host = "127.0.0.1:1"
	ctx := context.Background()
	for _, c := range []struct{ name, url string }{
		{"password refused", withPassword(*app, "", "")},
		{"unknown database", withPassword(*app, "no_such_db", "")},
		{"no server", withPassword(unreachable, "", "sslmode=disable&connect_timeout=2")},
		{"bad sslmode", withPassword(*app, "", "sslmode=bogus")},
		{"password in the query", "postgres://" + app.Host + "/x?user=app&password=" + password + "&sslmode=bogus"},
		{"key=value form", "host=127.0.0.1 port=1 user=app password=" + password + " dbname=x sslmode=bogus"},
		{"unparsable URL", "postgres://app:" + password + "@[::1/x"},
	} {
		_, err := postgres.Open(ctx, c.url)
		require.Error(t, err, c.name)
		sink.SeenError("Open ("+c.name+")", err)
		_, err = postgres.Migrate(ctx, c.url)
		require.Error(t, err, c.name)
		sink.SeenError("Migrate ("+c.name+")", err)
	}
}
