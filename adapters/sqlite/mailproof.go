package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// MailTokens implements ports.GlobalTx.
func (t *globalTx) MailTokens() ports.MailTokenRepo { return mailTokens{t} }

// MarkVerified implements ports.UserRepo: one conditional UPDATE, which
// the single writer connection serialises.
func (r users) MarkVerified(ctx context.Context, id ports.UserID, at time.Time) (bool, error) {
	res, err := r.t.q.ExecContext(ctx, `UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL`, micros(at), id)
	n, err := affected("mark verified", res, err)
	if err != nil || n == 1 {
		return n == 1, err
	}
	if _, err := r.Get(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// Shops implements ports.UserRepo.
func (r users) Shops(ctx context.Context, id ports.UserID) ([]ports.ShopID, error) {
	var out []ports.ShopID
	if err := r.t.q.SelectContext(ctx, &out, `SELECT shop_id FROM memberships WHERE user_id = ?`, id); err != nil {
		return nil, wrap("user shops", err)
	}
	return out, nil
}

// Delete implements ports.PasswordRepo.
func (r passwords) Delete(ctx context.Context, user ports.UserID) error {
	_, err := r.t.q.ExecContext(ctx, `DELETE FROM passwords WHERE user_id = ?`, user)
	return wrap("delete password", err)
}

// DeleteByUser implements ports.IdentityRepo.
func (r identities) DeleteByUser(ctx context.Context, user ports.UserID) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ?`, user)
	return affected("delete identities", res, err)
}

// mailTokens keeps mailed verification and reset tokens (global rows).
type mailTokens struct{ t *globalTx }

type mailTokenRow struct {
	TokenHash    []byte        `db:"token_hash"`
	Purpose      string        `db:"purpose"`
	Email        string        `db:"email"`
	UserID       *ports.UserID `db:"user_id"`
	Name         string        `db:"name"`
	PasswordHash string        `db:"password_hash"`
	CreatedAt    int64         `db:"created_at"`
	ExpiresAt    int64         `db:"expires_at"`
}

const mailTokenCols = `token_hash, purpose, email, user_id, name, password_hash, created_at, expires_at`

func (r mailTokenRow) port() ports.MailToken {
	m := ports.MailToken{
		TokenHash: r.TokenHash, Purpose: ports.MailTokenPurpose(r.Purpose), Email: r.Email, Name: r.Name,
		PasswordHash: r.PasswordHash, CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.UserID != nil {
		m.UserID = *r.UserID
	}
	return m
}

func (r mailTokens) Create(ctx context.Context, m ports.MailToken) (ports.MailToken, error) {
	m.Email = ports.NormalizeEmail(m.Email)
	if err := m.Validate(); err != nil {
		return ports.MailToken{}, err
	}
	row := mailTokenRow{
		TokenHash: append([]byte(nil), m.TokenHash...), Purpose: string(m.Purpose), Email: m.Email, Name: m.Name,
		PasswordHash: m.PasswordHash, CreatedAt: r.t.store.now(), ExpiresAt: micros(m.ExpiresAt),
	}
	if !m.UserID.IsZero() {
		row.UserID = &m.UserID
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO mail_tokens (`+mailTokenCols+`) VALUES
		(:token_hash, :purpose, :email, :user_id, :name, :password_hash, :created_at, :expires_at)`, row)
	if err != nil {
		return ports.MailToken{}, wrap("create mail token", err)
	}
	return row.port(), nil
}

// Consume is one DELETE of every token of the purpose mailed to the named
// token's address, while the named token is live; the single writer
// connection serialises concurrent calls.
func (r mailTokens) Consume(ctx context.Context, tokenHash []byte, purpose ports.MailTokenPurpose, now time.Time) (ports.MailToken, error) {
	var rows []mailTokenRow
	err := r.t.q.SelectContext(ctx, &rows, `DELETE FROM mail_tokens WHERE purpose = ?1 AND email =
		(SELECT email FROM mail_tokens WHERE token_hash = ?2 AND purpose = ?1 AND expires_at > ?3)
		RETURNING `+mailTokenCols, string(purpose), tokenHash, micros(now))
	if err != nil {
		return ports.MailToken{}, wrap("consume mail token", err)
	}
	return pickToken(rows, tokenHash)
}

func (r mailTokens) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM mail_tokens WHERE expires_at <= ?`, micros(now))
	return affected("delete expired mail tokens", res, err)
}

// pickToken returns the row whose hash is tokenHash, or ErrNotFound.
func pickToken(rows []mailTokenRow, tokenHash []byte) (ports.MailToken, error) {
	for _, row := range rows {
		if string(row.TokenHash) == string(tokenHash) {
			return row.port(), nil
		}
	}
	return ports.MailToken{}, wrap("consume mail token", sql.ErrNoRows)
}
