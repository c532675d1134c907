package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// OrgMembers implements ports.GlobalTx.
func (t *Global) OrgMembers() ports.OrgMemberRepo { return orgMembers{t} }

// orgMembers keeps org memberships, global org-level rows.
type orgMembers struct{ t *Global }

var _ ports.OrgMemberRepo = orgMembers{}

type orgMemberRow struct {
	OrgID     ports.OrgID   `db:"org_id"`
	UserID    ports.UserID  `db:"user_id"`
	Role      ports.OrgRole `db:"role"`
	CreatedAt Time          `db:"created_at"`
}

const orgMemberCols = `org_id, user_id, role, created_at`

func (r orgMemberRow) port() ports.OrgMember {
	return ports.OrgMember{OrgID: r.OrgID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.Time}
}

// Add inserts the org membership. The foreign keys refuse an unknown org
// or user with ErrNotFound; a second membership of the user is ErrConflict.
func (r orgMembers) Add(ctx context.Context, org ports.OrgID, user ports.UserID, role ports.OrgRole) (ports.OrgMember, error) {
	if err := ports.ValidateOrgRole(role); err != nil {
		return ports.OrgMember{}, err
	}
	m := ports.OrgMember{OrgID: org, UserID: user, Role: role, CreatedAt: r.t.now()}
	_, err := r.t.exec(ctx, `INSERT INTO org_members (`+orgMemberCols+`) VALUES (?, ?, ?, ?)`, m.OrgID, m.UserID, m.Role, m.CreatedAt)
	if err != nil {
		return ports.OrgMember{}, r.t.wrap("add org member", err)
	}
	return m, nil
}

func (r orgMembers) Get(ctx context.Context, org ports.OrgID, user ports.UserID) (ports.OrgMember, error) {
	var row orgMemberRow
	err := r.t.get(ctx, &row, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = ? AND user_id = ?`, org, user)
	if err != nil {
		return ports.OrgMember{}, r.t.wrap("get org member", err)
	}
	return row.port(), nil
}

func (r orgMembers) List(ctx context.Context, org ports.OrgID) ([]ports.OrgMember, error) {
	var rows []orgMemberRow
	err := r.t.sel(ctx, &rows, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = ? ORDER BY created_at, user_id`, org)
	if err != nil {
		return nil, r.t.wrap("list org members", err)
	}
	out := make([]ports.OrgMember, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Remove checks the last-owner rule first (see keepAnOwner; on Postgres it
// locks the org's owner rows and the member's row), so that of two
// concurrent removals of the last two owners the second finds one owner
// left.
func (r orgMembers) Remove(ctx context.Context, org ports.OrgID, user ports.UserID) error {
	err := r.t.keepAnOwner(ctx, "remove org member", `SELECT user_id, role FROM org_members
		WHERE org_id = ? AND (role = 'owner' OR user_id = ?) ORDER BY user_id`+r.t.lock("FOR UPDATE"), org, user)
	if err != nil {
		return err
	}
	n, err := r.t.exec(ctx, `DELETE FROM org_members WHERE org_id = ? AND user_id = ?`, org, user)
	if err != nil {
		return r.t.wrap("remove org member", err)
	}
	if n == 0 {
		return r.t.notFound("remove org member")
	}
	return nil
}
