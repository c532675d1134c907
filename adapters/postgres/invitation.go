package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Invitations() ports.InvitationRepo { return invitations{t} }

// invitations is the invitation repository of one shopTx. Every statement
// binds t.shop, and row-level security holds it to that shop as well.
type invitations struct{ t *shopTx }

type invitationRow struct {
	ID         ports.InvitationID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	Email      string             `db:"email"`
	Role       ports.Role         `db:"role"`
	InvitedBy  *ports.UserID      `db:"invited_by"`
	CreatedAt  time.Time          `db:"created_at"`
	ExpiresAt  time.Time          `db:"expires_at"`
	AcceptedAt sql.NullTime       `db:"accepted_at"`
	AcceptedBy *ports.UserID      `db:"accepted_by"`
	RevokedAt  sql.NullTime       `db:"revoked_at"`
}

const invitationCols = `id, token_hash, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

func (r invitationRow) port() ports.Invitation {
	inv := ports.Invitation{
		ID: r.ID, TokenHash: r.TokenHash, Email: r.Email, Role: r.Role,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.InvitedBy != nil {
		inv.InvitedBy = *r.InvitedBy
	}
	if r.AcceptedAt.Valid {
		inv.AcceptedAt = r.AcceptedAt.Time.UTC()
	}
	if r.AcceptedBy != nil {
		inv.AcceptedBy = *r.AcceptedBy
	}
	if r.RevokedAt.Valid {
		inv.RevokedAt = r.RevokedAt.Time.UTC()
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

// Create inserts the invitation. The foreign keys refuse an unknown
// inviter or shop with ErrNotFound.
func (r invitations) Create(ctx context.Context, inv ports.Invitation) (ports.Invitation, error) {
	inv.Email = ports.NormalizeEmail(inv.Email)
	if err := inv.Validate(); err != nil {
		return ports.Invitation{}, err
	}
	inv.TokenHash = append([]byte(nil), inv.TokenHash...)
	inv.CreatedAt, inv.ExpiresAt = r.t.store.now(), ports.Timestamp(inv.ExpiresAt)
	inv.AcceptedAt, inv.AcceptedBy, inv.RevokedAt = time.Time{}, ports.UserID{}, time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO invitations (shop_id, id, token_hash, email, role, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.t.shop, inv.ID, inv.TokenHash, inv.Email, inv.Role, optionalUser(inv.InvitedBy), inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return ports.Invitation{}, wrap("create invitation", err)
	}
	return inv, nil
}

func (r invitations) Get(ctx context.Context, id ports.InvitationID) (ports.Invitation, error) {
	var row invitationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+invitationCols+` FROM invitations WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
	if err != nil {
		return ports.Invitation{}, wrap("get invitation", err)
	}
	return row.port(), nil
}

// pendingAt is the SQL form of ports.Invitation.Pending at the time in
// parameter $2.
const pendingAt = `accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2`

func (r invitations) List(ctx context.Context, at time.Time) ([]ports.Invitation, error) {
	query, args := `SELECT `+invitationCols+` FROM invitations WHERE shop_id = $1`, []any{r.t.shop}
	if !at.IsZero() {
		query += ` AND ` + pendingAt
		args = append(args, ports.Timestamp(at))
	}
	var rows []invitationRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, query+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, wrap("list invitations", err)
	}
	out := make([]ports.Invitation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Accept is one conditional UPDATE. Under READ COMMITTED a concurrent
// second call waits for the first's row lock, then re-checks the WHERE
// clause against the accepted row and matches nothing: at most one wins.
// The foreign key on accepted_by refuses an unknown user with ErrNotFound.
func (r invitations) Accept(ctx context.Context, tokenHash []byte, user ports.UserID, now time.Time) (ports.Invitation, error) {
	if len(tokenHash) != ports.TokenHashSize || user.IsZero() {
		return ports.Invitation{}, notFound("accept invitation")
	}
	var row invitationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE invitations SET accepted_at = $2, accepted_by = $4
		WHERE shop_id = $1 AND token_hash = $3 AND `+pendingAt+` RETURNING `+invitationCols,
		r.t.shop, ports.Timestamp(now), tokenHash, user)
	if err != nil {
		return ports.Invitation{}, wrap("accept invitation", err)
	}
	return row.port(), nil
}

// Revoke is one conditional UPDATE, racing Accept the same way.
func (r invitations) Revoke(ctx context.Context, id ports.InvitationID, now time.Time) (ports.Invitation, error) {
	var row invitationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE invitations SET revoked_at = $2
		WHERE shop_id = $1 AND id = $3 AND `+pendingAt+` RETURNING `+invitationCols,
		r.t.shop, ports.Timestamp(now), id)
	if err != nil {
		return ports.Invitation{}, wrap("revoke invitation", err)
	}
	return row.port(), nil
}

func (r invitations) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM invitations WHERE shop_id = $1 AND expires_at < $2 AND accepted_at IS NULL`,
		r.t.shop, ports.Timestamp(now)))
	if err != nil {
		return 0, wrap("delete expired invitations", err)
	}
	return int(n), nil
}
