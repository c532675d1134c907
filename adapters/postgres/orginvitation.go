package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

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
	CreatedAt  time.Time          `db:"created_at"`
	ExpiresAt  time.Time          `db:"expires_at"`
	AcceptedAt sql.NullTime       `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	DeclinedAt sql.NullTime       `db:"declined_at"`
	RevokedAt  sql.NullTime       `db:"revoked_at"`
}

const orgInvitationCols = `org_id, id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, declined_at, revoked_at`

// orgPendingAt is the SQL form of ports.OrgInvitation.Pending at the time
// in parameter $2; $1 is the org.
const orgPendingAt = `org_id = $1 AND accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL AND expires_at > $2`

func (r orgInvitationRow) port() ports.OrgInvitation {
	inv := ports.OrgInvitation{
		ID: r.ID, OrgID: r.OrgID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		AcceptedAt: utcOrZero(r.AcceptedAt), DeclinedAt: utcOrZero(r.DeclinedAt), RevokedAt: utcOrZero(r.RevokedAt),
	}
	if r.InvitedBy != nil {
		inv.InvitedBy = *r.InvitedBy
	}
	if r.AcceptedBy != nil {
		inv.AcceptedBy = *r.AcceptedBy
	}
	return inv
}

// Create inserts the invitation. The foreign keys refuse an unknown org
// or inviter with ErrNotFound.
func (r orgInvitations) Create(ctx context.Context, inv ports.OrgInvitation) (ports.OrgInvitation, error) {
	inv.Email = ports.NormalizeEmail(inv.Email)
	if err := inv.Validate(); err != nil {
		return ports.OrgInvitation{}, err
	}
	inv.TokenHash = append([]byte(nil), inv.TokenHash...)
	inv.CreatedAt, inv.ExpiresAt = r.t.store.now(), ports.Timestamp(inv.ExpiresAt)
	inv.AcceptedAt, inv.AcceptedBy, inv.DeclinedAt, inv.RevokedAt = time.Time{}, ports.UserID{}, time.Time{}, time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO org_invitations (org_id, id, token_hash, email, role, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		inv.OrgID, inv.ID, inv.TokenHash, inv.Email, inv.Role, optionalUser(inv.InvitedBy), inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return ports.OrgInvitation{}, wrap("create org invitation", err)
	}
	return inv, nil
}

func (r orgInvitations) Pending(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	var row orgInvitationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+orgInvitationCols+` FROM org_invitations
		WHERE `+orgPendingAt+` AND token_hash = $3`, org, ports.Timestamp(now), tokenHash)
	if err != nil {
		return ports.OrgInvitation{}, wrap("get org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) List(ctx context.Context, org ports.OrgID, at time.Time) ([]ports.OrgInvitation, error) {
	query, args := `SELECT `+orgInvitationCols+` FROM org_invitations WHERE org_id = $1`, []any{org}
	if !at.IsZero() {
		query += ` AND ` + orgPendingAt
		args = append(args, ports.Timestamp(at))
	}
	var rows []orgInvitationRow
	if err := sqlx.SelectContext(ctx, r.t.q, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, wrap("list org invitations", err)
	}
	out := make([]ports.OrgInvitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept, Decline and Revoke are each one conditional UPDATE. Under READ
// COMMITTED a concurrent second call waits for the first's row lock, then
// re-checks the WHERE clause against the changed row and matches nothing:
// at most one wins. The foreign key on accepted_by refuses an unknown user
// with ErrNotFound.
func (r orgInvitations) Accept(ctx context.Context, org ports.OrgID, tokenHash []byte, user ports.UserID, now time.Time) (ports.OrgInvitation, error) {
	if user.IsZero() {
		return ports.OrgInvitation{}, notFound("accept org invitation")
	}
	return r.update(ctx, "accept org invitation", `accepted_at = $2, accepted_by = $4`, `token_hash = $3`, org, now, tokenHash, user)
}

func (r orgInvitations) Decline(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	return r.update(ctx, "decline org invitation", `declined_at = $2`, `token_hash = $3`, org, now, tokenHash)
}

func (r orgInvitations) Revoke(ctx context.Context, org ports.OrgID, id ports.InvitationID, now time.Time) (ports.OrgInvitation, error) {
	return r.update(ctx, "revoke org invitation", `revoked_at = $2`, `id = $3`, org, now, id)
}

// update sets set on org's invitation pending at now that matches where;
// $1 is org, $2 now, and args are $3 on.
func (r orgInvitations) update(ctx context.Context, op, set, where string, org ports.OrgID, now time.Time, args ...any) (ports.OrgInvitation, error) {
	var row orgInvitationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE org_invitations SET `+set+`
		WHERE `+orgPendingAt+` AND `+where+` RETURNING `+orgInvitationCols,
		append([]any{org, ports.Timestamp(now)}, args...)...)
	if err != nil {
		return ports.OrgInvitation{}, wrap(op, err)
	}
	return row.port(), nil
}

func (r orgInvitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM org_invitations WHERE expires_at < $1 AND accepted_at IS NULL`, ports.Timestamp(now)))
	if err != nil {
		return 0, wrap("delete expired org invitations", err)
	}
	return int(n), nil
}
