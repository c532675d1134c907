// Package sqlite is the embedded store: modernc.org/sqlite (pure Go, no
// cgo) behind the ports.Store unit of work.
//
// One writer connection runs every read-write unit of work as BEGIN
// IMMEDIATE, so writers never deadlock or fail with SQLITE_BUSY halfway
// through; a separate pool of query-only reader connections serves
// read-only units of work concurrently (WAL). Foreign keys are on; times are
// stored as microseconds since the epoch.
//
// Tenant isolation (TEN-4) is structural: a ShopTx binds its shop ID into
// every statement it runs, and no repository method takes a shop ID, so a
// cross-shop query cannot be expressed through the API.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var _ ports.Store = (*Store)(nil)

// Store is the SQLite implementation of ports.Store.
type Store struct {
	writer *sqlx.DB
	reader *sqlx.DB // == writer for in-memory databases
	clock  ports.Clock
	src    sqlmigrate.Source
	// appTables are the embedding app's declared tenant tables
	// (WithAppTables), validated by Open.
	appTables []ports.TenantTable
	// ownTables are the tables Stockade's migrations create, so the wall
	// can tell them from app tables nobody declared.
	ownTables map[string]bool
}

// Option configures Open.
type Option func(*options)

type options struct {
	clock     ports.Clock
	readers   int
	appTables []ports.TenantTable
	// appMigrations are applied or checked by Open (WithAppMigrations).
	appMigrations []appMigrations
}

// WithClock sets the clock that stamps CreatedAt and UpdatedAt.
func WithClock(c ports.Clock) Option { return func(o *options) { o.clock = c } }

// WithReaders sets the size of the reader pool (default: 2 × GOMAXPROCS,
// at least 4).
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// Migrations returns the adapter's embedded migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	return sub
}

func source() sqlmigrate.Source {
	return sqlmigrate.Source{
		Dialect: goose.DialectSQLite3,
		FS:      Migrations(),
		Missing: func(err error) bool { return strings.Contains(err.Error(), "no such table") },
	}
}

// Migrate applies pending migrations to the database at rawURL, creating
// the file if needed (its directory must exist) with mode 0600, which
// SQLite gives its -wal and -shm files too. It is idempotent and refuses a
// schema newer than this build (ports.ErrSchemaTooNew).
func Migrate(ctx context.Context, rawURL string) (sqlmigrate.Result, error) {
	path, err := ParseURL(rawURL)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	if path == Memory {
		return sqlmigrate.Result{}, ports.Invalid("database url", "an in-memory database cannot be migrated separately; Open migrates it")
	}
	if err := createPrivate(path); err != nil {
		return sqlmigrate.Result{}, err
	}
	db, err := openDB(ctx, path, true, 1)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	defer db.Close()
	return sqlmigrate.Up(ctx, db.DB, source())
}

// Open opens the database at rawURL (see ParseURL) and checks that its
// schema is current: ports.ErrSchemaBehind means run Migrate first,
// ports.ErrSchemaTooNew means this build is older than the data. An
// in-memory database is migrated by Open itself.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o := options{clock: ports.SystemClock{}, readers: max(4, 2*runtime.GOMAXPROCS(0))}
	for _, opt := range opts {
		opt(&o)
	}
	path, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	for _, t := range o.appTables {
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	if path != Memory {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("sqlite: database %s: %w (run migrate to create it)", path, ports.ErrSchemaBehind)
		}
	}
	writer, err := openDB(ctx, path, true, 1)
	if err != nil {
		return nil, err
	}
	s := &Store{writer: writer, reader: writer, clock: o.clock, src: source(), appTables: o.appTables}
	if s.ownTables, err = ownTables(s.src.FS); err != nil {
		writer.Close()
		return nil, err
	}
	if path == Memory {
		if _, err := sqlmigrate.Up(ctx, writer.DB, s.src); err != nil {
			writer.Close()
			return nil, err
		}
	} else {
		if s.reader, err = openDB(ctx, path, false, o.readers); err != nil {
			writer.Close()
			return nil, err
		}
	}
	if err := sqlmigrate.Check(ctx, writer.DB, s.src); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := s.openApps(ctx, path == Memory, o.appMigrations); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dbFileMode is the mode of a database file Migrate creates. SQLite
// creates a database's -wal and -shm files with the database file's mode.
const dbFileMode = 0o600

// createPrivate creates the database file at path, empty and private,
// unless it exists: SQLite would create it 0644 (less the umask), readable
// by every local user. An existing file keeps its mode. A missing
// directory is left for SQLite to report.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, dbFileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("sqlite: create %s: %v: %w", path, err, ports.ErrUnavailable)
		}
		return nil
	case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("sqlite: create %s: %v: %w", path, err, ports.ErrUnavailable)
	}
}

// openDB opens one pool. The writer pool has a single connection whose
// transactions begin IMMEDIATE; reader connections are query-only.
func openDB(ctx context.Context, path string, writer bool, conns int) (*sqlx.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if path != Memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	dsn := "file:" + path + "?" + q.Encode()
	if path == Memory {
		dsn = ":memory:?" + q.Encode()
	} else if abs, err := filepath.Abs(path); err == nil {
		dsn = "file:" + abs + "?" + q.Encode()
	}
	// The registered driver (with any functions the embedding app added
	// to it), behind the statement cache (stmtcache.go).
	reg, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, ports.ErrUnavailable)
	}
	drv, ok := reg.Driver().(*msqlite.Driver)
	_ = reg.Close() // never connected
	if !ok {
		return nil, fmt.Errorf("sqlite: open %s: the \"sqlite\" driver is %T, not modernc.org/sqlite: %w", path, reg.Driver(), ports.ErrUnavailable)
	}
	db := sqlx.NewDb(sql.OpenDB(connector{dsn: dsn, drv: drv}), "sqlite")
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, mapErr("ping", err))
	}
	return db, nil
}

// Ping reports whether both pools answer and the schema is current.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return mapErr("sqlite: ping", err)
	}
	return sqlmigrate.Check(ctx, s.reader.DB, s.src)
}

// Close closes both pools.
func (s *Store) Close() error {
	err := s.writer.Close()
	if s.reader != s.writer {
		if rerr := s.reader.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// DB returns the writer pool, for tests and maintenance tools that must
// reach below the port (the attack tests use it to try raw SQL).
func (s *Store) DB() *sqlx.DB { return s.writer }

// Now returns the store clock's time.
func (s *Store) Now() time.Time { return s.clock.Now() }
