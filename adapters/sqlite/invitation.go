package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Invitations() ports.InvitationRepo { return invitations{t} }

// invitations is the invitation repository of one shopTx. Every statement
// binds t.shop; none accepts a shop from the caller.
type invitations struct{ t *shopTx }

type invitationRow struct {
	ShopID     ports.ShopID       `db:"shop_id"`
	ID         ports.InvitationID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	Email      string             `db:"email"`
	Role       ports.Role         `db:"role"`
	InvitedBy  *ports.UserID      `db:"invited_by"`
	CreatedAt  int64              `db:"created_at"`
	ExpiresAt  int64              `db:"expires_at"`
	AcceptedAt *int64             `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	RevokedAt  *int64             `db:"revoked_at"`
}

const invitationCols = `shop_id, id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

func (r invitationRow) port() ports.Invitation {
	inv := ports.Invitation{
		ID: r.ID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.InvitedBy != nil {
		inv.InvitedBy = *r.InvitedBy
	}
	if r.AcceptedAt != nil {
		inv.AcceptedAt = fromMicros(*r.AcceptedAt)
	}
	if r.AcceptedBy != nil {
		inv.AcceptedBy = *r.AcceptedBy
	}
	if r.RevokedAt != nil {
		inv.RevokedAt = fromMicros(*r.RevokedAt)
	}
	return inv
}

// optionalUser stores the zero user as NULL.
func optionalUser(id ports.UserID) *ports.UserID {
	if id.IsZero() {
		return nil
	}
	return &id
}

func (r invitations) Create(ctx context.Context, inv ports.Invitation) (ports.Invitation, error) {
	inv.Email = ports.NormalizeEmail(inv.Email)
	if err := inv.Validate(); err != nil {
		return ports.Invitation{}, err
	}
	row := invitationRow{
		ShopID: r.t.shop, ID: inv.ID, TokenHash: cloneBytes(inv.TokenHash), Email: inv.Email, Role: inv.Role,
		InvitedBy: optionalUser(inv.InvitedBy), CreatedAt: r.t.store.now(), ExpiresAt: micros(inv.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO invitations (`+invitationCols+`) VALUES
		(:shop_id, :id, :token_hash, :email, :role, :invited_by, :created_at, :expires_at, :accepted_at, :accepted_by, :revoked_at)`, row)
	if err != nil {
		return ports.Invitation{}, wrap("create invitation", err)
	}
	return row.port(), nil
}

func (r invitations) Get(ctx context.Context, id ports.InvitationID) (ports.Invitation, error) {
	var row invitationRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+invitationCols+` FROM invitations WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Invitation{}, wrap("get invitation", err)
	}
	return row.port(), nil
}

// pendingAt is the SQL form of ports.Invitation.Pending; its one
// parameter is the time.
const pendingAt = `accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`

func (r invitations) List(ctx context.Context, at time.Time) ([]ports.Invitation, error) {
	query, args := `SELECT `+invitationCols+` FROM invitations WHERE shop_id = ?`, []any{r.t.shop}
	if !at.IsZero() {
		query += ` AND ` + pendingAt
		args = append(args, micros(at))
	}
	var rows []invitationRow
	if err := r.t.q.SelectContext(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, wrap("list invitations", err)
	}
	out := make([]ports.Invitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept is one conditional UPDATE: the single writer connection
// serialises concurrent calls, and only the first still finds the
// invitation pending. The foreign key on accepted_by refuses an unknown
// user with ErrNotFound.
func (r invitations) Accept(ctx context.Context, tokenHash []byte, user ports.UserID, now time.Time) (ports.Invitation, error) {
	at := micros(now)
	var row invitationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE shop_id = ? AND token_hash = ? AND `+pendingAt+` RETURNING `+invitationCols,
		at, user, r.t.shop, tokenHash, at)
	if err != nil {
		return ports.Invitation{}, wrap("accept invitation", err)
	}
	return row.port(), nil
}

func (r invitations) Revoke(ctx context.Context, id ports.InvitationID, now time.Time) (ports.Invitation, error) {
	at := micros(now)
	var row invitationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE invitations SET revoked_at = ?
		WHERE shop_id = ? AND id = ? AND `+pendingAt+` RETURNING `+invitationCols,
		at, r.t.shop, id, at)
	if err != nil {
		return ports.Invitation{}, wrap("revoke invitation", err)
	}
	return row.port(), nil
}

func (r invitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM invitations WHERE shop_id = ? AND expires_at < ? AND accepted_at IS NULL`, r.t.shop, micros(now))
	return affected("delete expired invitations", res, err)
}
