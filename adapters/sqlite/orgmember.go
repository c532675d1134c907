package sqlite

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

func (t *globalTx) OrgMembers() ports.OrgMemberRepo { return orgMembers{t} }

// orgMembers keeps org memberships, global org-level rows.
type orgMembers struct{ t *globalTx }

type orgMemberRow struct {
	OrgID     ports.OrgID   `db:"org_id"`
	UserID    ports.UserID  `db:"user_id"`
	Role      ports.OrgRole `db:"role"`
	CreatedAt int64         `db:"created_at"`
}

const orgMemberCols = `org_id, user_id, role, created_at`

func (r orgMemberRow) port() ports.OrgMember {
	return ports.OrgMember{OrgID: r.OrgID, UserID: r.UserID, Role: r.Role, CreatedAt: fromMicros(r.CreatedAt)}
}

func (r orgMembers) Add(ctx context.Context, org ports.OrgID, user ports.UserID, role ports.OrgRole) (ports.OrgMember, error) {
	if err := ports.ValidateOrgRole(role); err != nil {
		return ports.OrgMember{}, err
	}
	row := orgMemberRow{OrgID: org, UserID: user, Role: role, CreatedAt: r.t.store.now()}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO org_members (`+orgMemberCols+`) VALUES (:org_id, :user_id, :role, :created_at)`, row)
	if err != nil {
		return ports.OrgMember{}, wrap("add org member", err)
	}
	return row.port(), nil
}

func (r orgMembers) Get(ctx context.Context, org ports.OrgID, user ports.UserID) (ports.OrgMember, error) {
	var row orgMemberRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = ? AND user_id = ?`, org, user)
	if err != nil {
		return ports.OrgMember{}, wrap("get org member", err)
	}
	return row.port(), nil
}

func (r orgMembers) List(ctx context.Context, org ports.OrgID) ([]ports.OrgMember, error) {
	var rows []orgMemberRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+orgMemberCols+` FROM org_members WHERE org_id = ? ORDER BY created_at, user_id`, org)
	if err != nil {
		return nil, wrap("list org members", err)
	}
	out := make([]ports.OrgMember, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Remove checks, then deletes. A writing unit of work holds SQLite's one
// write lock from BEGIN (IMMEDIATE) on, so the owner count cannot change
// between the check and the DELETE.
func (r orgMembers) Remove(ctx context.Context, org ports.OrgID, user ports.UserID) error {
	var role ports.OrgRole
	var others int
	err := r.t.q.QueryRowxContext(ctx, `SELECT role, (SELECT count(*) FROM org_members o
		WHERE o.org_id = m.org_id AND o.role = 'owner' AND o.user_id <> m.user_id)
		FROM org_members m WHERE org_id = ? AND user_id = ?`, org, user).Scan(&role, &others)
	if err != nil {
		return wrap("remove org member", err)
	}
	if role == ports.OrgOwner && others == 0 {
		return fmt.Errorf("sqlite: remove org member: %w", ports.ErrLastOwner)
	}
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM org_members WHERE org_id = ? AND user_id = ?`, org, user)
	if err != nil {
		return wrap("remove org member", err)
	}
	return mustAffect("remove org member", res)
}
