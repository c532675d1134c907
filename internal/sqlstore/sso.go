package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// SSOConnections implements ports.GlobalTx.
func (t *Global) SSOConnections() ports.SSOConnectionRepo { return ssoConnections{t} }

// OrgDomains implements ports.GlobalTx.
func (t *Global) OrgDomains() ports.OrgDomainRepo { return orgDomains{t} }

// ssoConnections keeps sso_connections, one global row per org.
type ssoConnections struct{ t *Global }

var _ ports.SSOConnectionRepo = ssoConnections{}

type ssoConnectionRow struct {
	OrgID        ports.OrgID   `db:"org_id"`
	Issuer       string        `db:"issuer"`
	ClientID     string        `db:"client_id"`
	SealedSecret []byte        `db:"sealed_secret"`
	DefaultRole  ports.Role    `db:"default_role"`
	Enabled      bool          `db:"enabled"`
	Mandatory    bool          `db:"mandatory"`
	BreakGlass   *ports.UserID `db:"break_glass"`
	UpdatedBy    string        `db:"updated_by"`
	CreatedAt    Time          `db:"created_at"`
	UpdatedAt    Time          `db:"updated_at"`
}

const ssoConnectionCols = `org_id, issuer, client_id, sealed_secret, default_role, enabled, mandatory, break_glass, updated_by, created_at, updated_at`

func (r ssoConnectionRow) port() ports.SSOConnection {
	c := ports.SSOConnection{
		OrgID: r.OrgID, Issuer: r.Issuer, ClientID: r.ClientID, SealedSecret: r.SealedSecret, DefaultRole: r.DefaultRole,
		Enabled: r.Enabled, Mandatory: r.Mandatory, UpdatedBy: r.UpdatedBy, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	if r.BreakGlass != nil {
		c.BreakGlass = *r.BreakGlass
	}
	return c
}

func (r ssoConnections) Get(ctx context.Context, org ports.OrgID) (ports.SSOConnection, error) {
	var row ssoConnectionRow
	if err := r.t.get(ctx, &row, `SELECT `+ssoConnectionCols+` FROM sso_connections WHERE org_id = ?`, org); err != nil {
		return ports.SSOConnection{}, r.t.wrap("get sso connection", err)
	}
	return row.port(), nil
}

// Put is one upsert; the foreign keys refuse an unknown org or break-glass
// user with ErrNotFound.
func (r ssoConnections) Put(ctx context.Context, c ports.SSOConnection) (ports.SSOConnection, error) {
	if err := c.Validate(); err != nil {
		return ports.SSOConnection{}, err
	}
	now := r.t.now()
	var row ssoConnectionRow
	err := r.t.get(ctx, &row, `INSERT INTO sso_connections (`+ssoConnectionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
			sealed_secret = excluded.sealed_secret, default_role = excluded.default_role, enabled = excluded.enabled,
			mandatory = excluded.mandatory, break_glass = excluded.break_glass, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at
		RETURNING `+ssoConnectionCols,
		c.OrgID, c.Issuer, c.ClientID, cloneBytes(c.SealedSecret), c.DefaultRole, c.Enabled, c.Mandatory,
		optionalUser(c.BreakGlass), c.UpdatedBy, now, now)
	if err != nil {
		return ports.SSOConnection{}, r.t.wrap("put sso connection", err)
	}
	return row.port(), nil
}

func (r ssoConnections) Delete(ctx context.Context, org ports.OrgID) error {
	n, err := r.t.exec(ctx, `DELETE FROM sso_connections WHERE org_id = ?`, org)
	if err != nil {
		return r.t.wrap("delete sso connection", err)
	}
	if n == 0 {
		return r.t.notFound("delete sso connection")
	}
	return nil
}

// orgDomains keeps org_domains: an org's claims of e-mail domains. A
// partial unique index lets one domain be verified by one org only.
type orgDomains struct{ t *Global }

var _ ports.OrgDomainRepo = orgDomains{}

type orgDomainRow struct {
	OrgID      ports.OrgID `db:"org_id"`
	Domain     string      `db:"domain"`
	Token      string      `db:"token"`
	CreatedAt  Time        `db:"created_at"`
	VerifiedAt Time        `db:"verified_at"`
}

const orgDomainCols = `org_id, domain, token, created_at, verified_at`

func (r orgDomainRow) port() ports.OrgDomain {
	return ports.OrgDomain{OrgID: r.OrgID, Domain: r.Domain, Token: r.Token, CreatedAt: r.CreatedAt.Time, VerifiedAt: r.VerifiedAt.Time}
}

func (r orgDomains) Add(ctx context.Context, d ports.OrgDomain) (ports.OrgDomain, error) {
	d.Domain = ports.NormalizeDomain(d.Domain)
	if d.OrgID.IsZero() {
		return ports.OrgDomain{}, ports.Invalid("org_id", "must be set")
	}
	if err := ports.ValidateDomain(d.Domain); err != nil {
		return ports.OrgDomain{}, err
	}
	if d.Token == "" || len(d.Token) > 128 {
		return ports.OrgDomain{}, ports.Invalid("token", "must be 1 to 128 characters")
	}
	d.CreatedAt, d.VerifiedAt = r.t.now(), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO org_domains (org_id, domain, token, created_at) VALUES (?, ?, ?, ?)`,
		d.OrgID, d.Domain, d.Token, d.CreatedAt)
	if err != nil {
		return ports.OrgDomain{}, r.t.wrap("add org domain", err)
	}
	return d, nil
}

func (r orgDomains) Get(ctx context.Context, org ports.OrgID, domain string) (ports.OrgDomain, error) {
	var row orgDomainRow
	err := r.t.get(ctx, &row, `SELECT `+orgDomainCols+` FROM org_domains WHERE org_id = ? AND domain = ?`, org, ports.NormalizeDomain(domain))
	if err != nil {
		return ports.OrgDomain{}, r.t.wrap("get org domain", err)
	}
	return row.port(), nil
}

func (r orgDomains) List(ctx context.Context, org ports.OrgID) ([]ports.OrgDomain, error) {
	var rows []orgDomainRow
	if err := r.t.sel(ctx, &rows, `SELECT `+orgDomainCols+` FROM org_domains WHERE org_id = ? ORDER BY domain`, org); err != nil {
		return nil, r.t.wrap("list org domains", err)
	}
	out := make([]ports.OrgDomain, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// MarkVerified is one conditional UPDATE: the partial unique index over
// verified domains refuses a second org's verification (ErrConflict), also
// when two race; COALESCE keeps the first verification's time.
func (r orgDomains) MarkVerified(ctx context.Context, org ports.OrgID, domain string, at time.Time) (ports.OrgDomain, error) {
	var row orgDomainRow
	err := r.t.get(ctx, &row, `UPDATE org_domains SET verified_at = COALESCE(verified_at, ?)
		WHERE org_id = ? AND domain = ? RETURNING `+orgDomainCols, ports.Timestamp(at), org, ports.NormalizeDomain(domain))
	if err != nil {
		return ports.OrgDomain{}, r.t.wrap("verify org domain", err)
	}
	return row.port(), nil
}

func (r orgDomains) Remove(ctx context.Context, org ports.OrgID, domain string) error {
	n, err := r.t.exec(ctx, `DELETE FROM org_domains WHERE org_id = ? AND domain = ?`, org, ports.NormalizeDomain(domain))
	if err != nil {
		return r.t.wrap("remove org domain", err)
	}
	if n == 0 {
		return r.t.notFound("remove org domain")
	}
	return nil
}

func (r orgDomains) VerifiedBy(ctx context.Context, domain string) (ports.OrgID, error) {
	var org ports.OrgID
	err := r.t.get(ctx, &org, `SELECT org_id FROM org_domains WHERE domain = ? AND verified_at IS NOT NULL`, ports.NormalizeDomain(domain))
	if err != nil {
		return ports.OrgID{}, r.t.wrap("find verified domain", err)
	}
	return org, nil
}
