package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// resolvedRow is a session joined to its member's role and its user's
// sessions_valid_after.
type resolvedRow struct {
	SessionRow
	Role       ports.Role `db:"role"`
	ValidAfter Time       `db:"sessions_valid_after"`
	AssuranceRow
}

// AssuranceRow is what a session resolve reads beside the session for the
// second-factor checks (AUTH-13): the shop's two-factor policy (NULL
// without one) and whether the session's user has a confirmed TOTP
// factor or a passkey in the session's shop (AUTH-12). The columns are
// AssuranceCols over the join AssuranceJoin, with
// the session aliased s.
type AssuranceRow struct {
	PolicyAll   *bool   `db:"policy_all"`
	PolicyRoles *string `db:"policy_roles"`
	HasFactor   bool    `db:"has_factor"`
}

// AssuranceCols are AssuranceRow's columns, in the order of its Dest.
const AssuranceCols = `p.all_members AS policy_all, p.roles AS policy_roles, ` +
	`(EXISTS (SELECT 1 FROM user_totp f WHERE f.user_id = s.user_id AND f.confirmed_at IS NOT NULL) ` +
	`OR EXISTS (SELECT 1 FROM passkeys k WHERE k.shop_id = s.shop_id AND k.user_id = s.user_id)) AS has_factor`

// AssuranceJoin joins the session's shop's two-factor policy. The policy
// table is a tenant table: the join names the session's shop, and row-level
// security on Postgres binds it to the resolving shop too.
const AssuranceJoin = `LEFT JOIN two_factor_policies p ON p.shop_id = s.shop_id`

// Dest returns pointers to a's fields in the order of AssuranceCols.
func (a *AssuranceRow) Dest() []any { return []any{&a.PolicyAll, &a.PolicyRoles, &a.HasFactor} }

// Apply sets the second-factor fields of out from a.
func (a AssuranceRow) Apply(out *ports.ResolvedSession) {
	out.HasSecondFactor = a.HasFactor
	if a.PolicyAll == nil {
		return
	}
	p := ports.TwoFactorPolicy{AllMembers: *a.PolicyAll}
	if a.PolicyRoles != nil {
		p.Roles = ports.DecodePolicyRoles(*a.PolicyRoles)
	}
	out.TwoFactor = p.Normalize()
}

// ResolveSession implements ports.SessionResolver with plain SQL on q, a
// pool outside any transaction: one SELECT (a single statement reads one
// consistent snapshot), and one more for an impersonation session. The
// caller refuses to run inside a unit of work first. Postgres does not use
// it: its resolve is one message under row-level security
// (adapters/postgres).
//
// The shop is bound into the statement exactly as a Shop binds it, and the
// join on memberships means a session whose user has left the shop is not
// found even before the cascade removes it. An impersonation session
// resolves only while its impersonation has not ended and its operator is
// not disabled; otherwise, as for an unknown session, the error is
// ErrNotFound.
func ResolveSession(ctx context.Context, q Querier, d Dialect, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	switch {
	case shop.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("shop id", "must be set")
	case id.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("session id", "must be set")
	}
	r := runner{q: q, d: d}
	var row resolvedRow
	err := r.get(ctx, &row, `SELECT s.id, s.user_id, s.token_hash, s.method, s.user_agent, s.ip,
			s.created_at, s.last_seen_at, s.expires_at, s.impersonation_id, s.aal, s.reauthenticated_at,
			m.role, u.sessions_valid_after, `+AssuranceCols+`
		FROM sessions s JOIN memberships m ON m.shop_id = s.shop_id AND m.user_id = s.user_id
		JOIN users u ON u.id = s.user_id `+AssuranceJoin+`
		WHERE s.shop_id = ? AND s.id = ?`, shop, id)
	if err != nil {
		return ports.ResolvedSession{}, r.wrap("resolve session", err)
	}
	out := ports.ResolvedSession{Session: row.Session(), Role: row.Role, ValidAfter: row.ValidAfter.Time}
	row.AssuranceRow.Apply(&out)
	if row.Impersonation == nil {
		return out, nil
	}
	// An impersonation session (rare) costs one more statement, so that a
	// member's lookup is not compiled with two more joins on every request.
	var op ports.OperatorID
	err = r.get(ctx, &op, `SELECT i.operator_id FROM impersonations i JOIN operators o ON o.id = i.operator_id
		WHERE i.shop_id = ? AND i.id = ? AND i.ended_at IS NULL AND o.disabled_at IS NULL`, shop, *row.Impersonation)
	if err != nil {
		return ports.ResolvedSession{}, r.wrap("resolve session: live impersonation", err)
	}
	out.Impersonator = op
	return out, nil
}
