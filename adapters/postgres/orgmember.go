package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *globalTx) OrgMembers() ports.OrgMemberRepo { return orgMembers{t} }

// orgMembers keeps org memberships, global org-level rows.
type orgMembers struct{ t *globalTx }

type orgMemberRow struct {
	OrgID     ports.OrgID   `db:"org_id"`
	UserID    ports.UserID  `db:"user_id"`
	Role      ports.OrgRole `db:"role"`
	CreatedAt time.Time     `db:"created_at"`
}

const orgMemberCols = `org_id, user_id, role, created_at`

func (r orgMemberRow) port() ports.OrgMember {
	return ports.OrgMember{OrgID: r.OrgID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.UTC()}
}

func (r orgMembers) Add(ctx context.Context, org ports.OrgID, user ports.UserID, role ports.OrgRole) (ports.OrgMember, error) {
	if err := ports.ValidateOrgRole(role); err != nil {
		return ports.OrgMember{}, err
	}
	m := ports.OrgMember{OrgID: org, UserID: user, Role: role, CreatedAt: r.t.store.now()}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO org_members (`+orgMemberCols+`) VALUES ($1, $2, $3, $4)`, m.OrgID, m.UserID, m.Role, m.CreatedAt)
	if err != nil {
		return ports.OrgMember{}, wrap("add org member", err)
	}
	return m, nil
}

func (r orgMembers) Get(ctx context.Context, org ports.OrgID, user ports.UserID) (ports.OrgMember, error) {
	var row orgMemberRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = $1 AND user_id = $2`, org, user)
	if err != nil {
		return ports.OrgMember{}, wrap("get org member", err)
	}
	return row.port(), nil
}

func (r orgMembers) List(ctx context.Context, org ports.OrgID) ([]ports.OrgMember, error) {
	var rows []orgMemberRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = $1 ORDER BY created_at, user_id`, org)
	if err != nil {
		return nil, wrap("list org members", err)
	}
	out := make([]ports.OrgMember, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Remove locks the org's owner rows and the member's row first (see
// lockOwners), so that of two concurrent removals of the last two owners
// the second waits for the first and then finds one owner left.
func (r orgMembers) Remove(ctx context.Context, org ports.OrgID, user ports.UserID) error {
	err := lockOwners(ctx, r.t.q, "remove org member", `SELECT user_id, role FROM org_members
		WHERE org_id = $1 AND (role = 'owner' OR user_id = $2) ORDER BY user_id FOR UPDATE`, org, user)
	if err != nil {
		return err
	}
	if _, err := r.t.q.ExecContext(ctx, `DELETE FROM org_members WHERE org_id = $1 AND user_id = $2`, org, user); err != nil {
		return wrap("remove org member", err)
	}
	return nil
}
