package testinfra

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

const (
	pgPart  = "PostgreSQL"
	pgHowto = "apt-get install postgresql, or set STOCKADE_TEST_POSTGRES_URL"

	// pgURLEnv names a superuser URL of an existing cluster to use instead
	// of starting one.
	pgURLEnv = "STOCKADE_TEST_POSTGRES_URL"
	// pgBinEnv names a directory holding initdb and postgres.
	pgBinEnv = "STOCKADE_TEST_PG_BIN"

	// pgGroupRole is the cluster-wide group role every application role
	// belongs to.
	pgGroupRole = "stockade_app"
	// pgGroupLockKey is the advisory lock that serialises creation of
	// pgGroupRole between parallel tests and test binaries.
	pgGroupLockKey = 0x73746b6170700001

	pgSuperuser       = "postgres"
	pgStartTimeout    = 30 * time.Second
	pgExternalTimeout = 10 * time.Second
	pgSetupTimeout    = 30 * time.Second
)

// Postgres describes a fresh database created for one test. All URLs are
// postgres:// URLs for pgx or any libpq-compatible driver.
type Postgres struct {
	SuperURL  string // superuser connection to this test's database (setup, baselines)
	OwnerURL  string // the schema owner role; migrations run as this role
	AppURL    string // the application role: LOGIN, owns nothing, NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE, member of the group role "stockade_app"
	Database  string
	OwnerRole string
	AppRole   string
}

// StartPostgres returns a fresh, empty database (no migrations applied) for
// this test, on a cluster shared by the test binary.
//
// The database is created from template0 with UTF8 encoding and C collation,
// owned by OwnerRole (a LOGIN role with no other attributes), and only
// OwnerRole and AppRole may connect to it besides superusers. AppRole is a
// LOGIN role that owns nothing, is NOSUPERUSER NOBYPASSRLS NOCREATEDB
// NOCREATEROLE, and is a member of the group role "stockade_app", which is
// created cluster-wide if absent and never dropped. Both roles have random
// passwords and names unique to this call.
//
// The cluster is the one named by STOCKADE_TEST_POSTGRES_URL when set, and
// otherwise a throwaway cluster started on first use and stopped by [Main]
// (the test fails if Main is not running). Run as root, initdb and postgres
// run as the OS user "postgres", since initdb refuses root; the cluster's
// temporary directory under $TMPDIR must then be reachable by that user.
// The database and both roles are dropped in t.Cleanup, after terminating
// any connections still open to the database. A missing PostgreSQL
// installation goes through [Missing]; anything else that goes wrong fails
// the test.
func StartPostgres(t testing.TB) Postgres {
	t.Helper()
	c, err := reg.postgres()
	if err != nil {
		failStart(t, pgPart, pgHowto, err)
		return Postgres{}
	}

	suffix := randomHex(4)
	ownerPassword, appPassword := randomHex(16), randomHex(16)
	pg := Postgres{
		Database:  "stockade_test_" + suffix,
		OwnerRole: "own_" + suffix,
		AppRole:   "app_" + suffix,
	}
	pg.SuperURL = c.url(c.base.User, pg.Database)
	pg.OwnerURL = c.url(url.UserPassword(pg.OwnerRole, ownerPassword), pg.Database)
	pg.AppURL = c.url(url.UserPassword(pg.AppRole, appPassword), pg.Database)

	// Registered before creation so that a partial setup is undone too.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), pgSetupTimeout)
		defer cancel()
		if err := c.dropDatabase(ctx, pg); err != nil {
			t.Errorf("testinfra: drop PostgreSQL database %s: %v", pg.Database, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), pgSetupTimeout)
	defer cancel()
	if err := c.createDatabase(ctx, pg, ownerPassword, appPassword); err != nil {
		t.Fatalf("testinfra: create PostgreSQL database %s: %v", pg.Database, err)
	}
	return pg
}

// pgCluster is a PostgreSQL cluster used by this test binary: either one it
// started (proc and dir set) or an external one.
type pgCluster struct {
	base  *url.URL // superuser URL of the maintenance database
	admin *sql.DB  // superuser pool on base
	proc  *process // nil for an external cluster
	dir   string   // temporary directory to remove; "" for an external cluster
}

// postgres returns the binary's cluster, starting or connecting to it on
// first use. A failed start is remembered and returned to later callers.
func (r *registry) postgres() (*pgCluster, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked(); err != nil {
		return nil, err
	}
	if r.pg != nil {
		return r.pg, nil
	}
	if r.pgErr != nil {
		return nil, fmt.Errorf("failed earlier in this test binary: %w", r.pgErr)
	}
	c, err := r.openPostgresLocked()
	if _, ok := errors.AsType[*unavailableError](err); ok {
		return nil, err // may differ next time; do not remember
	}
	r.pg, r.pgErr = c, err
	return c, err
}

func (r *registry) openPostgresLocked() (*pgCluster, error) {
	if raw := os.Getenv(pgURLEnv); raw != "" {
		return openExternalPostgres(raw)
	}
	initdb, postgres, err := findPostgresBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	return startPostgresCluster(r.spawnerLocked(), initdb, postgres, cred)
}

// findPostgresBinaries returns the paths of initdb and postgres from the
// directory in STOCKADE_TEST_PG_BIN, else from PATH, else from the highest
// version under /usr/lib/postgresql. A set but unusable STOCKADE_TEST_PG_BIN
// is an error, not an absence.
func findPostgresBinaries() (initdb, postgres string, err error) {
	if dir := os.Getenv(pgBinEnv); dir != "" {
		initdb, postgres = filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		for _, p := range []string{initdb, postgres} {
			if !isExecutable(p) {
				return "", "", fmt.Errorf("%s=%s: %s is not an executable file", pgBinEnv, dir, p)
			}
		}
		return initdb, postgres, nil
	}
	initdb, errInit := exec.LookPath("initdb")
	postgres, errPG := exec.LookPath("postgres")
	if errInit == nil && errPG == nil {
		return initdb, postgres, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a))) // highest first
	})
	for _, dir := range dirs {
		initdb, postgres = filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		if isExecutable(initdb) && isExecutable(postgres) {
			return initdb, postgres, nil
		}
	}
	return "", "", unavailable("initdb and postgres not found in $%s, on PATH or in /usr/lib/postgresql/*/bin", pgBinEnv)
}

// compareVersions compares dotted version strings such as "9.6" and "15"
// numerically, component by component; non-numeric components compare as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// isExecutable reports whether path names a regular file (after symlinks)
// with an execute bit set.
func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// postgresCredential returns nil when the test runs as a non-root user, and
// otherwise the credential of the "postgres" OS user, because initdb and
// postgres refuse to run as root.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, unavailable("running as root, which initdb refuses, and there is no \"postgres\" OS user to run it as (%v)", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of OS user postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of OS user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// startPostgresCluster initialises a cluster in a new temporary directory,
// starts it on a free port of 127.0.0.1, and waits until the superuser can
// connect. With cred set, initdb and postgres run as that user and the
// directory is chowned to it. On error everything started is undone.
func startPostgresCluster(sp *spawner, initdb, postgres string, cred *syscall.Credential) (_ *pgCluster, err error) {
	dir, err := os.MkdirTemp("", "stockade-pg-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c := &pgCluster{dir: dir}
	defer func() {
		if err != nil {
			if c.proc != nil && c.proc.exited() {
				c.proc = nil // its log tail is already in err
			}
			if closeErr := c.close(); closeErr != nil {
				err = fmt.Errorf("%w (cleanup: %v)", err, closeErr)
			}
		}
	}()

	password := randomHex(16)
	pwfile := filepath.Join(dir, "pwfile")
	sockDir := filepath.Join(dir, "sock")
	dataDir := filepath.Join(dir, "data")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write password file: %w", err)
	}
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if cred != nil {
		for _, p := range []string{dir, pwfile, sockDir} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("chown %s to the postgres OS user: %w", p, err)
			}
		}
	}

	initLog := filepath.Join(dir, "initdb.log")
	if err := runInitdb(sp, initdb, initLog, cred, "-D", dataDir, "-U", pgSuperuser, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n--- initdb log (tail) ---\n%s", err, fileTail(initLog, 4096))
	}
	if err := os.Remove(pwfile); err != nil {
		return nil, fmt.Errorf("remove password file: %w", err)
	}

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(postgres, "-D", dataDir, "-k", sockDir, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	c.proc, err = startProcess(sp, "postgres", cmd, filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}

	c.base = &url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(pgSuperuser, password),
		Host:     "127.0.0.1:" + strconv.Itoa(port),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	if c.admin, err = openAdmin(c.base); err != nil {
		return nil, err
	}
	if err := waitReady(c.proc, pgStartTimeout, c.admin.PingContext); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, c.proc.logTail())
	}
	return c, nil
}

// runInitdb runs initdb with args, output to logPath, as cred if set.
func runInitdb(sp *spawner, initdb, logPath string, cred *syscall.Credential, args ...string) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(initdb, args...)
	cmd.Dir = filepath.Dir(logPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return sp.run(cmd)
}

// openExternalPostgres connects to the existing cluster named by raw and
// checks that the URL's role is a superuser.
func openExternalPostgres(raw string) (_ *pgCluster, err error) {
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", pgURLEnv, err)
	}
	if base.Scheme != "postgres" && base.Scheme != "postgresql" {
		return nil, fmt.Errorf("%s must be a postgres:// URL, got scheme %q", pgURLEnv, base.Scheme)
	}
	c := &pgCluster{base: base}
	defer func() {
		if err != nil {
			_ = c.close()
		}
	}()
	if c.admin, err = openAdmin(base); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgExternalTimeout)
	defer cancel()
	var super bool
	if err := c.admin.QueryRowContext(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w", pgURLEnv, base.Redacted(), err)
	}
	if !super {
		return nil, fmt.Errorf("%s (%s) must connect as a superuser", pgURLEnv, base.Redacted())
	}
	return c, nil
}

// openAdmin opens the superuser pool shared by all tests' setup and
// cleanup.
func openAdmin(base *url.URL) (*sql.DB, error) {
	db, err := sql.Open("pgx", base.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", base.Redacted(), err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(2)
	return db, nil
}

// url returns the cluster's URL with the given user and database; host,
// port and query parameters (such as sslmode) are kept.
func (c *pgCluster) url(user *url.Userinfo, database string) string {
	u := *c.base
	u.User = user
	u.Path = "/" + database
	u.RawPath = ""
	return u.String()
}

// createDatabase creates pg's roles and database as documented on
// StartPostgres.
func (c *pgCluster) createDatabase(ctx context.Context, pg Postgres, ownerPassword, appPassword string) error {
	if err := c.ensureGroupRole(ctx); err != nil {
		return err
	}
	const roleAttrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
	db, owner, app := quoteIdent(pg.Database), quoteIdent(pg.OwnerRole), quoteIdent(pg.AppRole)
	stmts := []string{
		fmt.Sprintf("CREATE ROLE %s %s PASSWORD %s", owner, roleAttrs, quoteLiteral(ownerPassword)),
		fmt.Sprintf("CREATE ROLE %s %s PASSWORD %s", app, roleAttrs, quoteLiteral(appPassword)),
		fmt.Sprintf("GRANT %s TO %s", quoteIdent(pgGroupRole), app),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", db, owner),
		fmt.Sprintf("REVOKE CONNECT ON DATABASE %s FROM PUBLIC", db),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s, %s", db, owner, app),
	}
	for _, stmt := range stmts {
		if _, err := c.admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", redactPassword(stmt), err)
		}
	}
	return nil
}

// ensureGroupRole creates the NOLOGIN group role stockade_app unless it
// exists. Creation is serialised by an advisory lock; a concurrent creator
// that the lock does not cover (another maintenance database on an external
// cluster) shows up as duplicate_object or unique_violation, which is
// success too.
func (c *pgCluster) ensureGroupRole(ctx context.Context) error {
	stmt := fmt.Sprintf(`DO $$
BEGIN
	PERFORM pg_advisory_xact_lock(%d);
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %s) THEN
		CREATE ROLE %s NOLOGIN;
	END IF;
END
$$`, int64(pgGroupLockKey), quoteLiteral(pgGroupRole), quoteIdent(pgGroupRole))
	_, err := c.admin.ExecContext(ctx, stmt)
	var pe *pgconn.PgError
	if err != nil && !(errors.As(err, &pe) && (pe.Code == "42710" || pe.Code == "23505")) { // duplicate_object, unique_violation
		return fmt.Errorf("create group role %s: %w", pgGroupRole, err)
	}
	return nil
}

// dropDatabase terminates the connections to pg's database, drops it and
// drops its two roles. Objects that do not exist are ignored, so it also
// undoes a partial createDatabase.
func (c *pgCluster) dropDatabase(ctx context.Context, pg Postgres) error {
	if _, err := c.admin.ExecContext(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
		pg.Database); err != nil {
		return fmt.Errorf("terminate connections: %w", err)
	}
	var errs []error
	stmts := []string{
		fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", quoteIdent(pg.Database)),
		fmt.Sprintf("DROP ROLE IF EXISTS %s", quoteIdent(pg.AppRole)),
		fmt.Sprintf("DROP ROLE IF EXISTS %s", quoteIdent(pg.OwnerRole)),
	}
	for _, stmt := range stmts {
		if _, err := c.admin.ExecContext(ctx, stmt); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", stmt, err))
		}
	}
	return errors.Join(errs...)
}

// redactPassword hides the literal after PASSWORD in a statement, for error
// messages.
func redactPassword(stmt string) string {
	if i := strings.Index(stmt, " PASSWORD "); i >= 0 {
		return stmt[:i] + " PASSWORD '***'"
	}
	return stmt
}

// close disconnects from the cluster and, if this binary started it, stops
// it and removes its directory.
func (c *pgCluster) close() error {
	var errs []error
	if c.admin != nil {
		if err := c.admin.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close admin pool: %w", err))
		}
	}
	if c.proc != nil {
		if err := c.proc.stop(stopGrace); err != nil {
			errs = append(errs, err)
		}
	}
	if c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.dir, err))
		}
	}
	return errors.Join(errs...)
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

// quoteLiteral quotes an SQL string literal (standard_conforming_strings
// is on in every supported PostgreSQL).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
