package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/internal/sqlmigrate"
)

// ErrNotIsolated is matched (errors.Is) by the error a caller builds from
// an IsolationReport that found problems (see IsolationReport.Err).
var ErrNotIsolated = errors.New("tenant isolation not proven")

// IsolationReport is what VerifyIsolation found in one database, as seen by
// one role: the catalog's evidence that row-level security binds that role
// to one shop at a time, and the outcome of a cross-shop probe that tries
// it. It is meant to be kept by an auditor; JSON names are stable.
type IsolationReport struct {
	CheckedAt     time.Time `json:"checked_at"`     // the server's clock
	Database      string    `json:"database"`       // current_database()
	ServerVersion string    `json:"server_version"` // server_version
	SchemaVersion int64     `json:"schema_version"` // Stockade's migrations applied

	Role RoleIsolation `json:"role"`
	// Relations are the tables, views and materialized views (outside
	// the system schemas) that have a shop_id column, in name order.
	Relations []RelationIsolation `json:"relations"`
	// DefinerFunctions are the SECURITY DEFINER functions outside the
	// system schemas, in name order.
	DefinerFunctions []DefinerFunction `json:"security_definer_functions"`
	Probe            Probe             `json:"probe"`
	// Problems lists every failed check; empty means isolation holds as
	// far as these checks see.
	Problems []IsolationProblem `json:"problems"`
}

// RoleIsolation describes the role the check ran as (session_user).
type RoleIsolation struct {
	Name       string `json:"name"`
	Superuser  bool   `json:"superuser"`
	BypassRLS  bool   `json:"bypassrls"`
	CreateRole bool   `json:"createrole"`
	// Owns lists what the role owns outside the system schemas, as
	// "table public.x", "function public.f(uuid)", "schema s", ….
	Owns []string `json:"owns"`
	// Reaches lists the other roles the role is or can become through
	// role membership (any chain, whatever its INHERIT or SET options)
	// that bypass row-level security or the grants.
	Reaches []ReachedRole `json:"reaches"`
}

// ReachedRole is a privileged role within reach of the checked role.
type ReachedRole struct {
	Name string `json:"name"`
	Why  string `json:"why"` // "superuser", "bypassrls", "owns tables", …
}

// RelationIsolation is one relation with a shop_id column.
type RelationIsolation struct {
	Name  string `json:"name"`  // schema-qualified, quoted where needed
	Kind  string `json:"kind"`  // "table", "view" or "materialized view"
	Owner string `json:"owner"` // the owning role
	// RLSEnabled and RLSForced are ENABLE and FORCE ROW LEVEL SECURITY
	// (tables only).
	RLSEnabled bool `json:"rls_enabled"`
	RLSForced  bool `json:"rls_forced"`
	// TenantPolicy reports the policy tenant_isolation: permissive, FOR
	// ALL, TO PUBLIC, with USING and WITH CHECK both exactly
	// shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid.
	TenantPolicy bool `json:"tenant_policy"`
	// SharedRows reports the tenant policy's one variant, which also
	// admits rows whose shop_id is NULL: rows of no shop, which every
	// shop may see (USING and WITH CHECK are then shop_id IS NULL OR the
	// expression above).
	SharedRows bool `json:"shared_rows,omitempty"`
	// OtherPolicies are the permissive policies besides the tenant
	// policy that apply to the checked role: each widens what it sees.
	OtherPolicies []string `json:"other_policies,omitempty"`
	// CanRead reports the role's SELECT privilege; the probe reads only
	// what the role can read.
	CanRead bool `json:"can_read"`
	// ProbeRead is what the probe saw reading the relation as shop A:
	// "no row of another shop", "no SELECT grant" or what went wrong.
	ProbeRead string `json:"probe_read"`
}

// DefinerFunction is one SECURITY DEFINER function: it runs with its
// owner's rights, row-level security included.
type DefinerFunction struct {
	Name       string `json:"name" db:"name"` // schema.name(input argument types)
	Owner      string `json:"owner" db:"owner"`
	Superuser  bool   `json:"owner_superuser" db:"superuser"`
	BypassRLS  bool   `json:"owner_bypassrls" db:"bypassrls"`
	PinnedPath bool   `json:"search_path_pinned" db:"pinned"`     // SET search_path on the function
	Executable bool   `json:"executable_by_role" db:"executable"` // the checked role may EXECUTE it
}

// Probe is the cross-shop probe: in one transaction, rolled back at the
// end, the checked role creates two probe shops A and B, writes a
// membership row for each, and then acts as A (see VerifyIsolation).
type Probe struct {
	ShopA string      `json:"shop_a"`
	ShopB string      `json:"shop_b"`
	Ran   bool        `json:"ran"` // false when the probe could not be set up
	Steps []ProbeStep `json:"steps"`
	Error string      `json:"error,omitempty"` // why the probe could not run
}

// ProbeStep is one thing the probe tried, and whether the wall held.
type ProbeStep struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// IsolationProblem is one failed check. Subject names what failed:
// "table public.files", "role app", "function public.f(uuid)", "probe".
type IsolationProblem struct {
	Subject string `json:"subject"`
	Problem string `json:"problem"`
}

func (p IsolationProblem) String() string { return p.Subject + ": " + p.Problem }

// OK reports whether every check passed.
func (r IsolationReport) OK() bool { return len(r.Problems) == 0 }

// Failing returns the distinct subjects of the problems, in the order they
// were found.
func (r IsolationReport) Failing() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range r.Problems {
		if !seen[p.Subject] {
			seen[p.Subject] = true
			out = append(out, p.Subject)
		}
	}
	return out
}

// Err returns nil when the report is OK, and otherwise an error matching
// ErrNotIsolated that names every failing table, role or function.
func (r IsolationReport) Err() error {
	if r.OK() {
		return nil
	}
	subjects := r.Failing()
	return fmt.Errorf("%w: %d problem(s) in %s: %s", ErrNotIsolated, len(r.Problems), strings.Join(subjects, ", "), r.Problems[0])
}

// The tenant policy's expressions as PostgreSQL prints them (pg_get_expr),
// whitespace removed (see normalizeExpr). tenantExpr is every Stockade
// tenant table's and every table stockade_tenant_table converts, in USING
// and WITH CHECK; tenantOrSharedExpr also admits shop-less rows (shop_id
// NULL), which belong to no shop: auth_mail's, for mail enqueued outside
// any shop.
const (
	tenantExpr         = `(shop_id=(NULLIF(current_setting('app.shop_id'::text,true),''::text))::uuid)`
	tenantOrSharedExpr = `((shop_idISNULL)OR(shop_id=(NULLIF(current_setting('app.shop_id'::text,true),''::text))::uuid))`
)

// normalizeExpr drops the whitespace from a printed expression (the
// tenant expressions hold no string literal with a space).
func normalizeExpr(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// VerifyIsolation connects to appURL, which must be the URL the server
// connects with (the application role), and checks that row-level
// security binds that role to one shop at a time:
//
//   - every table with a shop_id column has ENABLE and FORCE ROW LEVEL
//     SECURITY and the tenant policy (see RelationIsolation.TenantPolicy
//     and SharedRows), and no other permissive policy that applies to the
//     role; a materialized view with shop_id is readable
//     by the role not at all, a view only if it does not run as an owner
//     that bypasses row-level security;
//   - the role is not a superuser, has neither BYPASSRLS nor CREATEROLE,
//     owns nothing, and cannot reach through role membership a role that
//     is or does any of these, or a predefined role that reads or writes
//     every table (the same test Open applies, see checkRole);
//   - no SECURITY DEFINER function is owned by a superuser or a BYPASSRLS
//     role, and each pins its search_path;
//   - the cross-shop probe: in one transaction that is always rolled back,
//     it creates an org, two shops A and B, two users and a membership
//     of the first in each; as B it sees B's row; as A it sees no row of another shop in
//     any relation it can read, and with no shop set no row of any shop
//     (a row whose shop_id is NULL belongs to no shop and is not counted);
//     as A it cannot insert a membership for B, update or delete B's, or
//     move its own to B.
//
// It needs a current schema (ports.ErrSchemaBehind, ErrSchemaTooNew
// otherwise). The role is judged as it is: VerifyIsolation does not refuse
// a privileged role the way Open does, it reports it. An error means the
// checks could not run; failed checks are the report's Problems (see
// IsolationReport.Err). Nothing it writes outlives the probe's
// transaction.
func VerifyIsolation(ctx context.Context, appURL string) (IsolationReport, error) {
	db, err := connect(ctx, appURL, options{maxConns: 1})
	if err != nil {
		return IsolationReport{}, err
	}
	defer db.Close()
	if err := sqlmigrate.Check(ctx, db.DB, source(nil)); err != nil {
		return IsolationReport{}, fmt.Errorf("postgres: %w", err)
	}
	return verifyIsolation(ctx, db)
}

func verifyIsolation(ctx context.Context, db *sqlx.DB) (IsolationReport, error) {
	var r IsolationReport
	var err error
	if r.SchemaVersion, err = sqlmigrate.Current(ctx, db.DB, source(nil)); err != nil {
		return r, fmt.Errorf("postgres: %w", err)
	}
	var head struct {
		Now     time.Time `db:"now"`
		DB      string    `db:"db"`
		Version string    `db:"version"`
	}
	if err := db.GetContext(ctx, &head, `SELECT now() AS now, current_database() AS db, current_setting('server_version') AS version`); err != nil {
		return r, mapErr("isolation: server", err)
	}
	r.CheckedAt, r.Database, r.ServerVersion = head.Now.UTC(), head.DB, head.Version
	for _, step := range []func(context.Context, *sqlx.DB, *IsolationReport) error{
		checkIsolationRole, checkRelations, checkDefinerFunctions,
	} {
		if err := step(ctx, db, &r); err != nil {
			return r, err
		}
	}
	runProbe(ctx, db, &r)
	if r.Problems == nil {
		r.Problems = []IsolationProblem{}
	}
	return r, nil
}

func (r *IsolationReport) problem(subject, format string, args ...any) {
	r.Problems = append(r.Problems, IsolationProblem{Subject: subject, Problem: fmt.Sprintf(format, args...)})
}

// systemSchemas excludes the system schemas from a query on pg_namespace
// n: PostgreSQL's own, the TOAST and temporary ones.
const systemSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

func checkIsolationRole(ctx context.Context, db *sqlx.DB, r *IsolationReport) error {
	var attrs struct {
		Name       string `db:"rolname"`
		Super      bool   `db:"rolsuper"`
		Bypass     bool   `db:"rolbypassrls"`
		CreateRole bool   `db:"rolcreaterole"`
	}
	if err := db.GetContext(ctx, &attrs, `SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = session_user`); err != nil {
		return mapErr("isolation: role", err)
	}
	role := &r.Role
	role.Name, role.Superuser, role.BypassRLS, role.CreateRole = attrs.Name, attrs.Super, attrs.Bypass, attrs.CreateRole
	subject := "role " + attrs.Name
	for _, a := range []struct {
		on   bool
		what string
	}{
		{attrs.Super, "is a superuser: row-level security never applies to it"},
		{attrs.Bypass, "has BYPASSRLS: row-level security never applies to it"},
		{attrs.CreateRole, "has CREATEROLE: before PostgreSQL 16 it may grant itself any role, the tables' owner included"},
	} {
		if a.on {
			r.problem(subject, "%s", a.what)
		}
	}

	if err := db.SelectContext(ctx, &role.Owns, `
		SELECT kind || ' ' || name FROM (
			SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
			            WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
			            ELSE 'relation' END AS kind,
			       format('%I.%I', n.nspname, c.relname) AS name
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user)
			  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND `+systemSchemas+`
			UNION ALL
			SELECT 'function', format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
			FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
			WHERE p.proowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user) AND `+systemSchemas+`
			UNION ALL
			SELECT 'schema', format('%I', n.nspname)
			FROM pg_catalog.pg_namespace n
			WHERE n.nspowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user) AND `+systemSchemas+`
		) owned ORDER BY 1`); err != nil {
		return mapErr("isolation: owned objects", err)
	}
	for _, o := range role.Owns {
		r.problem(subject, "owns %s: an owner may turn row-level security off or drop the policies", o)
	}
	if role.Owns == nil {
		role.Owns = []string{}
	}

	// The reach is checkRole's own query, so the server's refusal at Open
	// and this report judge memberships alike. The role itself is in its
	// result too (a role is a member of itself); its attributes and what
	// it owns are reported above, more precisely.
	var rows []struct {
		Login string `db:"login"`
		Name  string `db:"rolname"`
		Why   string `db:"why"`
	}
	if err := db.SelectContext(ctx, &rows, checkRoleSQL); err != nil {
		return mapErr("isolation: role memberships", err)
	}
	role.Reaches = []ReachedRole{}
	for _, row := range rows {
		if row.Name == attrs.Name {
			continue
		}
		role.Reaches = append(role.Reaches, ReachedRole{Name: row.Name, Why: row.Why})
		r.problem(subject, "can become %s through role membership, which %s", row.Name, describeWhy(row.Why))
	}
	return nil
}

// describeWhy turns checkRoleSQL's reasons into words after "which".
func describeWhy(why string) string {
	parts := strings.Split(why, ", ")
	for i, p := range parts {
		switch p {
		case "superuser":
			parts[i] = "is a superuser"
		case "bypassrls":
			parts[i] = "has BYPASSRLS"
		case "createrole":
			parts[i] = "has CREATEROLE"
		default:
			parts[i] = p
		}
	}
	return strings.Join(parts, " and ") + " (" + why + ")"
}

func checkRelations(ctx context.Context, db *sqlx.DB, r *IsolationReport) error {
	var rels []struct {
		Name        string `db:"name"`
		Kind        string `db:"kind"`
		Owner       string `db:"owner"`
		OwnerBypass bool   `db:"owner_bypass"`
		Enabled     bool   `db:"enabled"`
		Forced      bool   `db:"forced"`
		Invoker     bool   `db:"invoker"`
		CanRead     bool   `db:"can_read"`
	}
	if err := db.SelectContext(ctx, &rels, `
		SELECT format('%I.%I', n.nspname, c.relname) AS name,
		       CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind,
		       o.rolname AS owner, o.rolsuper OR o.rolbypassrls AS owner_bypass,
		       c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
		       COALESCE(c.reloptions && ARRAY['security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes'], false) AS invoker,
		       pg_catalog.has_table_privilege(c.oid, 'SELECT') AS can_read
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
		WHERE c.relkind IN ('r', 'p', 'v', 'm') AND `+systemSchemas+`
		  AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'shop_id' AND NOT a.attisdropped)
		ORDER BY 1`); err != nil {
		return mapErr("isolation: tenant relations", err)
	}
	var pols []struct {
		Rel        string `db:"rel"`
		Name       string `db:"polname"`
		Cmd        string `db:"cmd"`
		Permissive bool   `db:"permissive"`
		ToPublic   bool   `db:"to_public"`
		Applies    bool   `db:"applies"`
		Roles      string `db:"roles"`
		Using      string `db:"using_expr"`
		Check      string `db:"check_expr"`
	}
	if err := db.SelectContext(ctx, &pols, `
		SELECT format('%I.%I', n.nspname, c.relname) AS rel, p.polname,
		       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd,
		       p.polpermissive AS permissive,
		       p.polroles = '{0}'::oid[] AS to_public,
		       EXISTS (SELECT FROM unnest(p.polroles) AS pr(oid)
		               WHERE CASE WHEN pr.oid = 0 THEN true ELSE pg_catalog.pg_has_role(session_user, pr.oid, 'MEMBER') END) AS applies,
		       (SELECT string_agg(CASE WHEN pr.oid = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(pr.oid)::text END, ', ' ORDER BY 1)
		        FROM unnest(p.polroles) AS pr(oid)) AS roles,
		       COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') AS using_expr,
		       COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') AS check_expr
		FROM pg_catalog.pg_policy p
		JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE `+systemSchemas+`
		ORDER BY 1, 2`); err != nil {
		return mapErr("isolation: policies", err)
	}

	r.Relations = make([]RelationIsolation, 0, len(rels))
	for _, rel := range rels {
		ri := RelationIsolation{
			Name: rel.Name, Kind: rel.Kind, Owner: rel.Owner,
			RLSEnabled: rel.Enabled, RLSForced: rel.Forced, CanRead: rel.CanRead,
		}
		subject := rel.Kind + " " + rel.Name
		switch rel.Kind {
		case "table":
			for _, p := range pols {
				if p.Rel != rel.Name {
					continue
				}
				using, check := normalizeExpr(p.Using), normalizeExpr(p.Check)
				if p.Name == "tenant_isolation" && p.Cmd == "ALL" && p.Permissive && p.ToPublic && using == check {
					switch using {
					case tenantExpr:
						ri.TenantPolicy = true
						continue
					case tenantOrSharedExpr:
						ri.TenantPolicy, ri.SharedRows = true, true
						continue
					}
				}
				if p.Permissive && p.Applies {
					desc := fmt.Sprintf("%s FOR %s TO %s USING (%s)", p.Name, p.Cmd, p.Roles, p.Using)
					if p.Check != "" {
						desc += fmt.Sprintf(" WITH CHECK (%s)", p.Check)
					}
					ri.OtherPolicies = append(ri.OtherPolicies, desc)
				}
			}
			if !rel.Enabled {
				r.problem(subject, "row-level security is not enabled (ALTER TABLE … ENABLE ROW LEVEL SECURITY)")
			}
			if !rel.Forced {
				r.problem(subject, "row-level security is not forced (ALTER TABLE … FORCE ROW LEVEL SECURITY): its owner %s, and the SECURITY DEFINER functions it owns, bypass the policies", rel.Owner)
			}
			if !ri.TenantPolicy {
				r.problem(subject, "has no tenant policy: tenant_isolation FOR ALL TO PUBLIC USING and WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid); an app table gets it from SELECT stockade_tenant_table('…')")
			}
			for _, o := range ri.OtherPolicies {
				r.problem(subject, "policy %s applies to the role besides the tenant policy and widens what it may read or write", o)
			}
		case "materialized view":
			if rel.CanRead {
				r.problem(subject, "the role may read it, and a materialized view has no row-level security: it shows every shop's rows")
			}
		case "view":
			if rel.CanRead && rel.OwnerBypass && !rel.Invoker {
				r.problem(subject, "the role may read it and it runs as its owner %s, who bypasses row-level security (make it security_invoker or give it another owner)", rel.Owner)
			}
		}
		r.Relations = append(r.Relations, ri)
	}
	return nil
}

func checkDefinerFunctions(ctx context.Context, db *sqlx.DB, r *IsolationReport) error {
	if err := db.SelectContext(ctx, &r.DefinerFunctions, `
		SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)) AS name,
		       o.rolname AS owner, o.rolsuper AS superuser, o.rolbypassrls AS bypassrls,
		       EXISTS (SELECT FROM unnest(p.proconfig) AS s(setting) WHERE s.setting LIKE 'search\_path=%') AS pinned,
		       pg_catalog.has_function_privilege(p.oid, 'EXECUTE') AS executable
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_catalog.pg_roles o ON o.oid = p.proowner
		WHERE p.prosecdef AND `+systemSchemas+`
		ORDER BY 1`); err != nil {
		return mapErr("isolation: security definer functions", err)
	}
	if r.DefinerFunctions == nil {
		r.DefinerFunctions = []DefinerFunction{}
	}
	for _, f := range r.DefinerFunctions {
		subject := "function " + f.Name
		switch {
		case f.Superuser:
			r.problem(subject, "is SECURITY DEFINER and owned by the superuser %s: it runs with row-level security bypassed", f.Owner)
		case f.BypassRLS:
			r.problem(subject, "is SECURITY DEFINER and owned by %s, which has BYPASSRLS: it runs with row-level security bypassed", f.Owner)
		}
		if !f.PinnedPath {
			r.problem(subject, "is SECURITY DEFINER without SET search_path: a caller's objects can stand in for the ones it names")
		}
	}
	return nil
}

// rlsRefused reports whether err is PostgreSQL refusing a row for a
// row-level security policy (SQLSTATE 42501 with the policy's message).
func rlsRefused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501" && strings.Contains(pe.Message, "row-level security")
}

// runProbe runs the cross-shop probe (see VerifyIsolation) and records
// its steps and problems in r. The transaction is always rolled back.
func runProbe(ctx context.Context, db *sqlx.DB, r *IsolationReport) {
	p := &r.Probe
	p.Steps = []ProbeStep{}
	fail := func(err error) {
		p.Error = err.Error()
		r.problem("probe", "could not run: %v", err)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		fail(mapErr("begin", err))
		return
	}
	defer tx.Rollback() // the probe is never committed

	a, b, org, user, other := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	p.ShopA, p.ShopB = a.String(), b.String()
	tag := strings.ToLower(rand.Text()[:12])
	setup := []struct {
		query string
		args  []any
	}{
		{`SET LOCAL statement_timeout = '30s'`, nil},
		{`SET LOCAL lock_timeout = '5s'`, nil},
		{`INSERT INTO orgs (id, name, created_at) VALUES ($1, 'stockade isolation probe', now())`, []any{org}},
		{`INSERT INTO shops (id, org_id, slug, name, status, created_at) VALUES ($1, $3, $4, 'isolation probe A', 'active', now()), ($2, $3, $5, 'isolation probe B', 'active', now())`,
			[]any{a, b, org, "isolation-probe-" + tag + "-a", "isolation-probe-" + tag + "-b"}},
		{`INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, 'isolation probe', now()), ($3, $4, 'isolation probe', now())`,
			[]any{user, "isolation-probe-" + tag + "@probe.invalid", other, "isolation-probe-" + tag + "-other@probe.invalid"}},
		{`SELECT set_config('app.shop_id', $1, true)`, []any{b.String()}},
		{`INSERT INTO memberships (shop_id, user_id, role, created_at, updated_at) VALUES ($1, $2, 'viewer', now(), now())`, []any{b, user}},
		{`SELECT set_config('app.shop_id', $1, true)`, []any{a.String()}},
		{`INSERT INTO memberships (shop_id, user_id, role, created_at, updated_at) VALUES ($1, $2, 'viewer', now(), now())`, []any{a, user}},
	}
	for _, s := range setup {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			fail(mapErr("set up the probe shops", err))
			return
		}
	}
	p.Ran = true
	step := func(check string, ok bool, detail string) {
		p.Steps = append(p.Steps, ProbeStep{Check: check, OK: ok, Detail: detail})
		if !ok {
			r.problem("probe", "%s: %s", check, detail)
		}
	}
	as := func(shop string) error {
		_, err := tx.ExecContext(ctx, `SELECT set_config('app.shop_id', $1, true)`, shop)
		return err
	}
	// savepoint runs fn inside a savepoint that is rolled back after it,
	// so that an expected error does not end the transaction.
	// It returns fn's error, and the error of the savepoint itself.
	savepoint := func(fn func() error) (got, err error) {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT isolation_probe`); err != nil {
			return nil, err
		}
		got = fn()
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT isolation_probe`); err != nil {
			return got, err
		}
		return got, nil
	}

	// 1. B's row is there and B sees it: otherwise A seeing nothing
	// would prove nothing.
	if err := as(b.String()); err != nil {
		fail(mapErr("act as shop B", err))
		return
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM memberships WHERE shop_id = $1`, b); err != nil {
		fail(mapErr("read as shop B", err))
		return
	}
	step("as shop B, B's membership row is visible", n == 1, fmt.Sprintf("%d row(s)", n))

	// 2. As A, no relation shows a row of another shop; 3. with no shop
	// set, none shows any row.
	readAll := func(shop, query string, args ...any) (leaks []string, read int, err error) {
		if err := as(shop); err != nil {
			return nil, 0, err
		}
		for i := range r.Relations {
			rel := &r.Relations[i]
			if !rel.CanRead {
				continue
			}
			var seen bool
			got, err := savepoint(func() error {
				return tx.GetContext(ctx, &seen, fmt.Sprintf(query, rel.Name), args...)
			})
			if err != nil {
				return nil, 0, err
			}
			switch {
			case got != nil:
				leaks = append(leaks, fmt.Sprintf("%s (could not read: %v)", rel.Name, mapErr("read", got)))
			case seen:
				leaks = append(leaks, rel.Name)
			default:
				read++
			}
		}
		return leaks, read, nil
	}
	leaks, read, err := readAll(a.String(), `SELECT EXISTS (SELECT FROM %s WHERE shop_id <> $1)`, a)
	if err != nil {
		fail(mapErr("read as shop A", err))
		return
	}
	for i := range r.Relations {
		rel := &r.Relations[i]
		switch {
		case !rel.CanRead:
			rel.ProbeRead = "no SELECT grant"
		case containsPrefix(leaks, rel.Name):
			rel.ProbeRead = "SAW ROWS OF ANOTHER SHOP"
		default:
			rel.ProbeRead = "no row of another shop"
		}
	}
	step("as shop A, no relation shows a row of another shop", len(leaks) == 0,
		leakDetail(leaks, read, "relation(s) read"))
	leaks, read, err = readAll("", `SELECT EXISTS (SELECT FROM %s WHERE shop_id IS NOT NULL)`)
	if err != nil {
		fail(mapErr("read with no shop set", err))
		return
	}
	step("with no shop set, no relation shows a row of any shop", len(leaks) == 0, leakDetail(leaks, read, "relation(s) read"))

	// 4. As A, writes for B are refused.
	if err := as(a.String()); err != nil {
		fail(mapErr("act as shop A", err))
		return
	}
	got, err := savepoint(func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO memberships (shop_id, user_id, role, created_at, updated_at) VALUES ($1, $2, 'viewer', now(), now())`, b, other)
		return err
	})
	if err != nil {
		fail(mapErr("write as shop A", err))
		return
	}
	step("as shop A, inserting a membership row for B is refused by row-level security", rlsRefused(got), refusalDetail(got))
	got, err = savepoint(func() error {
		_, err := tx.ExecContext(ctx, `UPDATE memberships SET shop_id = $1 WHERE shop_id = $2`, b, a)
		return err
	})
	if err != nil {
		fail(mapErr("write as shop A", err))
		return
	}
	step("as shop A, moving A's membership row to B is refused by row-level security", rlsRefused(got), refusalDetail(got))
	for _, w := range []struct{ check, query string }{
		{"as shop A, updating B's membership row touches nothing", `UPDATE memberships SET updated_at = now() WHERE shop_id = $1`},
		{"as shop A, deleting B's membership row touches nothing", `DELETE FROM memberships WHERE shop_id = $1`},
	} {
		var touched int64
		got, err := savepoint(func() error {
			res, err := tx.ExecContext(ctx, w.query, b)
			if err == nil {
				touched, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			fail(mapErr("write as shop A", err))
			return
		}
		switch {
		case got != nil:
			step(w.check, false, fmt.Sprintf("failed: %v", mapErr("write", got)))
		default:
			step(w.check, touched == 0, fmt.Sprintf("%d row(s) touched", touched))
		}
	}
}

func containsPrefix(list []string, name string) bool {
	for _, s := range list {
		if s == name || strings.HasPrefix(s, name+" (") {
			return true
		}
	}
	return false
}

func leakDetail(leaks []string, read int, what string) string {
	if len(leaks) == 0 {
		return fmt.Sprintf("%d %s", read, what)
	}
	return "rows visible in " + strings.Join(leaks, ", ")
}

func refusalDetail(err error) string {
	if err == nil {
		return "ACCEPTED"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err.Error()
}
