package testinfra

import (
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
	"slices"
	"testing"

	"github.com/pressly/goose/v3"
)

// CheckMigrationsDown proves that a store adapter's migrations after
// floor undo themselves exactly. On db, an empty database, it migrates
// up to floor and describes the schema with catalog (one line per object:
// a table's column, a constraint, an index, a trigger, …), migrates to
// the latest version, down to floor — where the description must be the
// one at floor, nothing left behind and nothing missing — and up again,
// where it must be the latest one. versionTable is goose's table of
// applied versions. Migrations up to floor have no Down (the
// foundation goes only with the database).
func CheckMigrationsDown(t *testing.T, db *sql.DB, dialect goose.Dialect, migrations fs.FS, versionTable string, floor int64, catalog func(*testing.T) []string) {
	t.Helper()
	ctx := context.Background()
	p, err := goose.NewProvider(dialect, db, migrations,
		goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("migration provider: %v", err)
	}
	step := func(what string, f func(context.Context) error) {
		t.Helper()
		if err := f(ctx); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("up to the floor", func(ctx context.Context) error { _, err := p.UpTo(ctx, floor); return err })
	atFloor := catalog(t)
	step("up to the latest", func(ctx context.Context) error { _, err := p.Up(ctx); return err })
	latest := catalog(t)
	if len(catalogDiff(atFloor, latest)) == 0 {
		t.Fatalf("the migrations after %d change nothing the catalog shows", floor)
	}
	step("down to the floor", func(ctx context.Context) error { _, err := p.DownTo(ctx, floor); return err })
	if d := catalogDiff(atFloor, catalog(t)); len(d) > 0 {
		t.Errorf("down to %d leaves a schema unlike the one at %d (- missing, + left behind):\n%s", floor, floor, lines(d))
	}
	step("up again", func(ctx context.Context) error { _, err := p.Up(ctx); return err })
	if d := catalogDiff(latest, catalog(t)); len(d) > 0 {
		t.Errorf("up again after down builds a schema unlike the first (- missing, + extra):\n%s", lines(d))
	}
}

// catalogDiff lists the lines only in want ("- …") or only in got
// ("+ …"), sorted; empty when both hold the same lines.
func catalogDiff(want, got []string) []string {
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var diff []string
	for l, n := range count {
		switch {
		case n > 0:
			diff = append(diff, "- "+l)
		case n < 0:
			diff = append(diff, "+ "+l)
		}
	}
	slices.Sort(diff)
	return diff
}

func lines(ls []string) string {
	out := ""
	for _, l := range ls {
		out += l + "\n"
	}
	return out
}
