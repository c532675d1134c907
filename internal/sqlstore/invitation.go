package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Invitations implements ports.ShopTx.
func (t *Shop) Invitations() ports.InvitationRepo { return invitations{t} }

// invitations is the invitation repository of one Shop. Every statement
// binds t.shop; none accepts a shop from the caller.
type invitations struct{ t *Shop }

var _ ports.InvitationRepo = invitations{}

type invitationRow struct {
	ID         ports.InvitationID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	Email      string             `db:"email"`
	Role       ports.Role         `db:"role"`
	InvitedBy  *ports.UserID      `db:"invited_by"`
	CreatedAt  Time               `db:"created_at"`
	ExpiresAt  Time               `db:"expires_at"`
	AcceptedAt Time               `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	RevokedAt  Time               `db:"revoked_at"`
}

const invitationCols = `id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

func (r invitationRow) port() ports.Invitation {
	inv := ports.Invitation{
		ID: r.ID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time, AcceptedAt: r.AcceptedAt.Time, RevokedAt: r.RevokedAt.Time,
	}
	if r.InvitedBy != nil {
		inv.InvitedBy = *r.InvitedBy
	}
	if r.AcceptedBy != nil {
		inv.AcceptedBy = *r.AcceptedBy
	}
	return inv
}

// pending is the SQL form of ports.Invitation.Pending; its one parameter
// is the time.
const pending = `accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`

// Create inserts the invitation, pending, stamped with the store clock's
// time. The foreign keys refuse an unknown inviter or shop with
// ErrNotFound.
func (r invitations) Create(ctx context.Context, inv ports.Invitation) (ports.Invitation, error) {
	inv.Email = ports.NormalizeEmail(inv.Email)
	if err := inv.Validate(); err != nil {
		return ports.Invitation{}, err
	}
	inv.TokenHash = cloneBytes(inv.TokenHash)
	inv.CreatedAt, inv.ExpiresAt = r.t.now(), ports.Timestamp(inv.ExpiresAt)
	inv.AcceptedAt, inv.AcceptedBy, inv.RevokedAt = time.Time{}, ports.UserID{}, time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO invitations (shop_id, id, token_hash, email, role, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, inv.ID, inv.TokenHash, inv.Email, inv.Role, optionalUser(inv.InvitedBy), inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return ports.Invitation{}, r.t.wrap("create invitation", err)
	}
	return inv, nil
}

func (r invitations) Get(ctx context.Context, id ports.InvitationID) (ports.Invitation, error) {
	var row invitationRow
	err := r.t.get(ctx, &row, `SELECT `+invitationCols+` FROM invitations WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Invitation{}, r.t.wrap("get invitation", err)
	}
	return row.port(), nil
}

// List returns the shop's invitations, newest first; those pending at at
// only, unless at is zero.
func (r invitations) List(ctx context.Context, at time.Time) ([]ports.Invitation, error) {
	query, args := `SELECT `+invitationCols+` FROM invitations WHERE shop_id = ?`, []any{r.t.shop}
	if !at.IsZero() {
		query += ` AND ` + pending
		args = append(args, at)
	}
	var rows []invitationRow
	if err := r.t.sel(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, r.t.wrap("list invitations", err)
	}
	out := make([]ports.Invitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept is one conditional UPDATE. On Postgres (READ COMMITTED) a
// concurrent second call waits for the first's row lock, then re-checks
// the WHERE clause against the accepted row and matches nothing; on SQLite
// the one writer serialises them the same way: at most one wins. A token
// hash of the wrong size or the zero user matches nothing (ErrNotFound);
// the foreign key on accepted_by refuses an unknown user with ErrNotFound.
func (r invitations) Accept(ctx context.Context, tokenHash []byte, user ports.UserID, now time.Time) (ports.Invitation, error) {
	if len(tokenHash) != ports.TokenHashSize || user.IsZero() {
		return ports.Invitation{}, r.t.notFound("accept invitation")
	}
	var row invitationRow
	err := r.t.get(ctx, &row, `UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE shop_id = ? AND token_hash = ? AND `+pending+` RETURNING `+invitationCols,
		now, user, r.t.shop, tokenHash, now)
	if err != nil {
		return ports.Invitation{}, r.t.wrap("accept invitation", err)
	}
	return row.port(), nil
}

// Revoke is one conditional UPDATE, racing Accept the same way.
func (r invitations) Revoke(ctx context.Context, id ports.InvitationID, now time.Time) (ports.Invitation, error) {
	var row invitationRow
	err := r.t.get(ctx, &row, `UPDATE invitations SET revoked_at = ?
		WHERE shop_id = ? AND id = ? AND `+pending+` RETURNING `+invitationCols,
		now, r.t.shop, id, now)
	if err != nil {
		return ports.Invitation{}, r.t.wrap("revoke invitation", err)
	}
	return row.port(), nil
}

// DeleteExpired deletes the shop's invitations that expired before now
// unaccepted, and returns how many.
func (r invitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM invitations WHERE shop_id = ? AND expires_at < ? AND accepted_at IS NULL`, r.t.shop, now)
	if err != nil {
		return 0, r.t.wrap("delete expired invitations", err)
	}
	return int(n), nil
}
