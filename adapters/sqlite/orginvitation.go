package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *globalTx) OrgInvitations() ports.OrgInvitationRepo { return orgInvitations{t} }

// orgInvitations keeps invitations to an org role, global org-level rows.
// Every statement that finds a row by its token binds the org as well.
type orgInvitations struct{ t *globalTx }

type orgInvitationRow struct {
	OrgID      ports.OrgID        `db:"org_id"`
	ID         ports.InvitationID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	Email      string             `db:"email"`
	Role       ports.OrgRole      `db:"role"`
	InvitedBy  *ports.UserID      `db:"invited_by"`
	CreatedAt  int64              `db:"created_at"`
	ExpiresAt  int64              `db:"expires_at"`
	AcceptedAt *int64             `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	DeclinedAt *int64             `db:"declined_at"`
	RevokedAt  *int64             `db:"revoked_at"`
}

const orgInvitationCols = `org_id, id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, declined_at, revoked_at`

// orgPendingAt is the SQL form of ports.OrgInvitation.Pending; its one
// parameter is the time.
const orgPendingAt = `accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL AND expires_at > ?`

func (r orgInvitationRow) port() ports.OrgInvitation {
	inv := ports.OrgInvitation{
		ID: r.ID, OrgID: r.OrgID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
		AcceptedAt: optionalTime(r.AcceptedAt), DeclinedAt: optionalTime(r.DeclinedAt), RevokedAt: optionalTime(r.RevokedAt),
	}
	if r.InvitedBy != nil {
		inv.InvitedBy = *r.InvitedBy
	}
	if r.AcceptedBy != nil {
		inv.AcceptedBy = *r.AcceptedBy
	}
	return inv
}

func (r orgInvitations) Create(ctx context.Context, inv ports.OrgInvitation) (ports.OrgInvitation, error) {
	inv.Email = ports.NormalizeEmail(inv.Email)
	if err := inv.Validate(); err != nil {
		return ports.OrgInvitation{}, err
	}
	row := orgInvitationRow{
		OrgID: inv.OrgID, ID: inv.ID, TokenHash: cloneBytes(inv.TokenHash), Email: inv.Email, Role: inv.Role,
		InvitedBy: optionalUser(inv.InvitedBy), CreatedAt: r.t.store.now(), ExpiresAt: micros(inv.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO org_invitations (org_id, id, token_hash, email, role, invited_by, created_at, expires_at)
		VALUES (:org_id, :id, :token_hash, :email, :role, :invited_by, :created_at, :expires_at)`, row)
	if err != nil {
		return ports.OrgInvitation{}, wrap("create org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) Pending(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	var row orgInvitationRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+orgInvitationCols+` FROM org_invitations
		WHERE org_id = ? AND token_hash = ? AND `+orgPendingAt, org, tokenHash, micros(now))
	if err != nil {
		return ports.OrgInvitation{}, wrap("get org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) List(ctx context.Context, org ports.OrgID, at time.Time) ([]ports.OrgInvitation, error) {
	query, args := `SELECT `+orgInvitationCols+` FROM org_invitations WHERE org_id = ?`, []any{org}
	if !at.IsZero() {
		query += ` AND ` + orgPendingAt
		args = append(args, micros(at))
	}
	var rows []orgInvitationRow
	if err := r.t.q.SelectContext(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, wrap("list org invitations", err)
	}
	out := make([]ports.OrgInvitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept, Decline and Revoke are each one conditional UPDATE: the single
// writer connection serialises concurrent calls, and only the first still
// finds the invitation pending. The foreign key on accepted_by refuses an
// unknown user with ErrNotFound.
func (r orgInvitations) Accept(ctx context.Context, org ports.OrgID, tokenHash []byte, user ports.UserID, now time.Time) (ports.OrgInvitation, error) {
	at := micros(now)
	var row orgInvitationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE org_invitations SET accepted_at = ?, accepted_by = ?
		WHERE org_id = ? AND token_hash = ? AND `+orgPendingAt+` RETURNING `+orgInvitationCols,
		at, user, org, tokenHash, at)
	if err != nil {
		return ports.OrgInvitation{}, wrap("accept org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) Decline(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	at := micros(now)
	var row orgInvitationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE org_invitations SET declined_at = ?
		WHERE org_id = ? AND token_hash = ? AND `+orgPendingAt+` RETURNING `+orgInvitationCols,
		at, org, tokenHash, at)
	if err != nil {
		return ports.OrgInvitation{}, wrap("decline org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) Revoke(ctx context.Context, org ports.OrgID, id ports.InvitationID, now time.Time) (ports.OrgInvitation, error) {
	at := micros(now)
	var row orgInvitationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE org_invitations SET revoked_at = ?
		WHERE org_id = ? AND id = ? AND `+orgPendingAt+` RETURNING `+orgInvitationCols,
		at, org, id, at)
	if err != nil {
		return ports.OrgInvitation{}, wrap("revoke org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM org_invitations WHERE expires_at < ? AND accepted_at IS NULL`, micros(now))
	return affected("delete expired org invitations", res, err)
}
