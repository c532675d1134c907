package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// OrgInvitations implements ports.GlobalTx.
func (t *Global) OrgInvitations() ports.OrgInvitationRepo { return orgInvitations{t} }

// orgInvitations keeps invitations to an org role, global org-level rows.
// Every statement that finds a row by its token binds the org as well.
type orgInvitations struct{ t *Global }

var _ ports.OrgInvitationRepo = orgInvitations{}

type orgInvitationRow struct {
	OrgID      ports.OrgID        `db:"org_id"`
	ID         ports.InvitationID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	Email      string             `db:"email"`
	Role       ports.OrgRole      `db:"role"`
	InvitedBy  *ports.UserID      `db:"invited_by"`
	CreatedAt  Time               `db:"created_at"`
	ExpiresAt  Time               `db:"expires_at"`
	AcceptedAt Time               `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	DeclinedAt Time               `db:"declined_at"`
	RevokedAt  Time               `db:"revoked_at"`
}

const orgInvitationCols = `org_id, id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, declined_at, revoked_at`

// orgPending is the SQL form of ports.OrgInvitation.Pending; its one
// parameter is the time.
const orgPending = `accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL AND expires_at > ?`

func (r orgInvitationRow) port() ports.OrgInvitation {
	inv := ports.OrgInvitation{
		ID: r.ID, OrgID: r.OrgID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time,
		AcceptedAt: r.AcceptedAt.Time, DeclinedAt: r.DeclinedAt.Time, RevokedAt: r.RevokedAt.Time,
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
	inv.TokenHash = cloneBytes(inv.TokenHash)
	inv.CreatedAt, inv.ExpiresAt = r.t.now(), ports.Timestamp(inv.ExpiresAt)
	inv.AcceptedAt, inv.AcceptedBy, inv.DeclinedAt, inv.RevokedAt = time.Time{}, ports.UserID{}, time.Time{}, time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO org_invitations (org_id, id, token_hash, email, role, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.OrgID, inv.ID, inv.TokenHash, inv.Email, inv.Role, optionalUser(inv.InvitedBy), inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return ports.OrgInvitation{}, r.t.wrap("create org invitation", err)
	}
	return inv, nil
}

func (r orgInvitations) Pending(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	var row orgInvitationRow
	err := r.t.get(ctx, &row, `SELECT `+orgInvitationCols+` FROM org_invitations
		WHERE org_id = ? AND token_hash = ? AND `+orgPending, org, tokenHash, now)
	if err != nil {
		return ports.OrgInvitation{}, r.t.wrap("get org invitation", err)
	}
	return row.port(), nil
}

func (r orgInvitations) List(ctx context.Context, org ports.OrgID, at time.Time) ([]ports.OrgInvitation, error) {
	query, args := `SELECT `+orgInvitationCols+` FROM org_invitations WHERE org_id = ?`, []any{org}
	if !at.IsZero() {
		query += ` AND ` + orgPending
		args = append(args, at)
	}
	var rows []orgInvitationRow
	if err := r.t.sel(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, r.t.wrap("list org invitations", err)
	}
	out := make([]ports.OrgInvitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept, Decline and Revoke are each one conditional UPDATE. On Postgres
// (READ COMMITTED) a concurrent second call waits for the first's row
// lock, then re-checks the WHERE clause against the changed row and
// matches nothing; on SQLite the one writer serialises them the same way:
// at most one wins. The foreign key on accepted_by refuses an unknown user
// with ErrNotFound, and the zero user is refused before any SQL.
func (r orgInvitations) Accept(ctx context.Context, org ports.OrgID, tokenHash []byte, user ports.UserID, now time.Time) (ports.OrgInvitation, error) {
	if user.IsZero() {
		return ports.OrgInvitation{}, r.t.notFound("accept org invitation")
	}
	return r.update(ctx, "accept org invitation", `accepted_at = ?, accepted_by = ?`, []any{now, user}, `token_hash`, tokenHash, org, now)
}

func (r orgInvitations) Decline(ctx context.Context, org ports.OrgID, tokenHash []byte, now time.Time) (ports.OrgInvitation, error) {
	return r.update(ctx, "decline org invitation", `declined_at = ?`, []any{now}, `token_hash`, tokenHash, org, now)
}

func (r orgInvitations) Revoke(ctx context.Context, org ports.OrgID, id ports.InvitationID, now time.Time) (ports.OrgInvitation, error) {
	return r.update(ctx, "revoke org invitation", `revoked_at = ?`, []any{now}, `id`, id, org, now)
}

// update sets set (whose parameters are setArgs) on org's invitation
// pending at now whose column key equals val, and returns it changed.
func (r orgInvitations) update(ctx context.Context, op, set string, setArgs []any, key string, val any, org ports.OrgID, now time.Time) (ports.OrgInvitation, error) {
	var row orgInvitationRow
	err := r.t.get(ctx, &row, `UPDATE org_invitations SET `+set+`
		WHERE org_id = ? AND `+key+` = ? AND `+orgPending+` RETURNING `+orgInvitationCols,
		append(setArgs, org, val, now)...)
	if err != nil {
		return ports.OrgInvitation{}, r.t.wrap(op, err)
	}
	return row.port(), nil
}

// DeleteExpired deletes every expired invitation that was not accepted.
func (r orgInvitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM org_invitations WHERE expires_at < ? AND accepted_at IS NULL`, now)
	if err != nil {
		return 0, r.t.wrap("delete expired org invitations", err)
	}
	return int(n), nil
}
