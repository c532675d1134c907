// Package postgres is the PostgreSQL store: pgx (through database/sql and
// sqlx for the embedding app's SQL, migrations and checks) behind the
// ports.Store unit of work, with row-level security as defence in depth
// (TEN-3).
//
// The store connects as the application role, which owns no table, is not
// a superuser and has no BYPASSRLS; Open refuses a role that could bypass
// row-level security. Migrations run separately as the schema owner
// (Migrate). Every tenant table carries shop_id, has ENABLE + FORCE ROW
// LEVEL SECURITY and a policy on the transaction-local GUC app.shop_id.
//
// A unit of work sends nothing of its own ahead of its first statement:
// the tenant setting (and, for a read-write unit of work, BEGIN) travels
// in one pipeline with it (see flight). A read-only unit of work costs one
// round trip per statement; a read-write one its statements plus COMMIT.
// ResolveSession, the per-request session lookup, costs one round trip:
// set_config and the prepared SELECT in one pipeline. Statements are
// prepared once per connection (pgx's statement cache).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/stockadehq/stockade/internal/scrub"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var _ ports.Store = (*Store)(nil)

// TenantSetting is the transaction-local GUC that row-level security
// policies read; InShop sets it.
const TenantSetting = "app.shop_id"

// Store is the PostgreSQL implementation of ports.Store.
type Store struct {
	db      *sqlx.DB
	clock   ports.Clock
	src     sqlmigrate.Source
	dialect *dialect
	mapper  *reflectx.Mapper // columns to struct fields, as sqlx maps them
	// appTables are the embedding app's declared tenant tables
	// (WithAppTables), checked by Open; a shop's deletion covers them.
	appTables []ports.TenantTable
}

// Option configures Open.
type Option func(*options)

type options struct {
	clock           ports.Clock
	dialer          DialFunc
	maxConns        int
	allowPrivileged bool
	appTables       []ports.TenantTable
	appMigrations   []appMigrations // checked by Open (WithAppMigrations)
}

// WithClock sets the clock that stamps CreatedAt and UpdatedAt.
func WithClock(c ports.Clock) Option { return func(o *options) { o.clock = c } }

// DialFunc opens the network connection to the server.
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// WithDialer sets the function connections are dialled with (tests count
// round trips through it).
func WithDialer(d DialFunc) Option { return func(o *options) { o.dialer = d } }

// WithMaxConns sets the pool size (default 16).
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithPrivilegedRole lets Open connect as a role that bypasses row-level
// security or the column grants (see checkRole: a superuser, a BYPASSRLS
// role, a table owner, or a member of one). Only for
// maintenance tools; the server never sets it.
func WithPrivilegedRole() Option { return func(o *options) { o.allowPrivileged = true } }

// Migrations returns the adapter's embedded migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	return sub
}

func source(locker lock.SessionLocker) sqlmigrate.Source {
	return sqlmigrate.Source{
		Dialect: goose.DialectPostgres,
		FS:      Migrations(),
		Locker:  locker,
		Missing: func(err error) bool {
			var pe *pgconn.PgError
			return errors.As(err, &pe) && pe.Code == "42P01" // undefined_table
		},
	}
}

// Migrate applies pending migrations as the schema owner whose URL is
// ownerURL. Concurrent migrators are serialised by an advisory lock. It is
// idempotent and refuses a schema newer than this build
// (ports.ErrSchemaTooNew). The first migration creates the group role
// stockade_app if it is missing (which needs CREATEROLE); grant it to the
// application's login role.
func Migrate(ctx context.Context, ownerURL string) (sqlmigrate.Result, error) {
	db, err := connect(ctx, ownerURL, options{maxConns: 2})
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return sqlmigrate.Result{}, fmt.Errorf("postgres: migration lock: %w", err)
	}
	res, err := sqlmigrate.Up(ctx, db.DB, source(locker))
	if err != nil {
		return res, fmt.Errorf("postgres: %w", err)
	}
	return res, nil
}

// Open connects to appURL as the application role and checks the role and
// the schema. Errors match ports.ErrInvalid (malformed URL, or a role that
// bypasses row-level security), ports.ErrUnavailable (unreachable, bad
// credentials), ports.ErrSchemaBehind or ports.ErrSchemaTooNew.
func Open(ctx context.Context, appURL string, opts ...Option) (*Store, error) {
	o := options{clock: ports.SystemClock{}, maxConns: 16}
	for _, opt := range opts {
		opt(&o)
	}
	for _, t := range o.appTables {
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	db, err := connect(ctx, appURL, o)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, clock: o.clock, src: source(nil), dialect: &dialect{}, mapper: newMapper()}
	if !o.allowPrivileged {
		if err := s.checkRole(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := sqlmigrate.Check(ctx, db.DB, s.src); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.checkApps(ctx, o.appMigrations); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.checkAppTables(ctx, o.appTables); err != nil {
		db.Close()
		return nil, err
	}
	s.appTables = o.appTables
	return s, nil
}

// connect opens a pool on rawURL through pgx's database/sql driver and
// pings it. Statements are prepared once per connection (pgx's default
// statement cache).
func connect(ctx context.Context, rawURL string, o options) (*sqlx.DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, ports.Invalid("database url", "must look like postgres://user:password@host:5432/dbname")
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		// A server that accepts and never answers must not hang Open.
		q.Set("connect_timeout", "10")
	}
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, ports.Invalid("database url", fmt.Sprintf("not a PostgreSQL URL: %s", redactErr(err, u)))
	}
	if o.dialer != nil {
		cfg.DialFunc = o.dialer
	}
	db := sqlx.NewDb(stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(shouldPing)), "pgx")
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot reach %s: %w", u.Redacted(), mapErr("connect", err))
	}
	return db, nil
}

// shouldPing checks a pooled connection before reuse only after it sat
// idle for a while (a server restart or an idle timeout may have closed
// it); a busy pool pays no round trip for it.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	return p.IdleDuration > 30*time.Second
}

// redactErr returns err's text with u's password masked where it stands
// alone (the words around it stay readable).
func redactErr(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok {
		msg = scrub.Secret(msg, p, "xxxxx")
	}
	return msg
}

// checkRole refuses a connection whose role row-level security or the
// column grants would not bind. The login role (session_user, to which a
// session can always RESET ROLE) and current_user must not be, nor be able
// to reach through role membership, any role that
//   - is a superuser, has BYPASSRLS or CREATEROLE (before PostgreSQL 16 a
//     CREATEROLE role may grant itself any other role);
//   - owns a table, or a schema holding tables (an owner may disable
//     row-level security, drop the policies or the tables);
//   - is one of the predefined roles that read or write every table or
//     server file (pg_read_all_data ignores the column grants that keep
//     password hashes out of reach).
//
// Reach is pg_has_role's MEMBER: any chain of memberships, whatever its
// INHERIT (PostgreSQL 15) or INHERIT and SET options (16+), since the
// options of a chain's grants can be changed by whoever holds ADMIN on
// them and MEMBER covers USAGE and SET alike. A role is a member of
// itself, so the role's own attributes are covered by the same test.
func (s *Store) checkRole(ctx context.Context) error {
	var rows []struct {
		Login string `db:"login"`
		Name  string `db:"rolname"`
		Why   string `db:"why"`
	}
	err := s.db.SelectContext(ctx, &rows, checkRoleSQL)
	if err != nil {
		return mapErr("check role", err)
	}
	if len(rows) == 0 {
		return nil
	}
	reached := make([]string, len(rows))
	for i, r := range rows {
		reached[i] = fmt.Sprintf("%q (%s)", r.Name, r.Why)
	}
	return ports.Invalid("database url", fmt.Sprintf(
		"role %q bypasses row-level security: it is or can become through role membership %s; connect as a login role that is a member of stockade_app only and owns nothing",
		rows[0].Login, strings.Join(reached, ", ")))
}

// checkRoleSQL lists the privileged roles the connection's roles reach;
// see checkRole.
const checkRoleSQL = `WITH danger (oid, why) AS (
		SELECT oid, 'superuser' FROM pg_catalog.pg_roles WHERE rolsuper
		UNION ALL SELECT oid, 'bypassrls' FROM pg_catalog.pg_roles WHERE rolbypassrls
		UNION ALL SELECT oid, 'createrole' FROM pg_catalog.pg_roles WHERE rolcreaterole
		UNION ALL SELECT DISTINCT relowner, 'owns tables' FROM pg_catalog.pg_class WHERE relkind IN ('r', 'p')
		UNION ALL SELECT DISTINCT n.nspowner, 'owns a schema with tables' FROM pg_catalog.pg_namespace n
			WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p'))
		UNION ALL SELECT oid, 'reads or writes every table or server file' FROM pg_catalog.pg_roles
			WHERE rolname IN ('pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
	)
	SELECT session_user AS login, r.rolname, string_agg(DISTINCT d.why, ', ' ORDER BY d.why) AS why
	FROM danger d JOIN pg_catalog.pg_roles r ON r.oid = d.oid
	WHERE pg_catalog.pg_has_role(session_user, d.oid, 'MEMBER') OR pg_catalog.pg_has_role(current_user, d.oid, 'MEMBER')
	GROUP BY r.rolname
	ORDER BY r.rolname`

// Ping reports whether the database answers and the schema is current.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return mapErr("ping", err)
	}
	if err := sqlmigrate.Check(ctx, s.db.DB, s.src); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the pool, for tests and maintenance tools that must reach
// below the port (the attack tests use it to try raw SQL as the
// application role).
func (s *Store) DB() *sqlx.DB { return s.db }

// Now returns the store clock's time.
func (s *Store) Now() time.Time { return s.clock.Now() }
