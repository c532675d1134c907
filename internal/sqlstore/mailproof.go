package sqlstore

import (
	"bytes"
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// MailTokens implements ports.GlobalTx. On Postgres the application role
// cannot read a token's hashes (migration 00021): the adapter there joins
// this repository's Create and DeleteExpired with its own Consume, through
// a definer function that answers one exact statement.
func (t *Global) MailTokens() ports.MailTokenRepo { return mailTokens{t} }

// MarkVerified implements ports.UserRepo: one conditional UPDATE. On
// Postgres (READ COMMITTED) a concurrent second call waits for the first's
// row lock, re-checks the WHERE clause against the verified row and
// matches nothing; on SQLite the one writer serialises them the same way:
// exactly one reports true.
func (r users) MarkVerified(ctx context.Context, id ports.UserID, at time.Time) (bool, error) {
	n, err := r.t.exec(ctx, `UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL`, at, id)
	if err != nil {
		return false, r.t.wrap("mark verified", err)
	}
	if n == 1 {
		return true, nil
	}
	if _, err := r.Get(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// Shops implements ports.UserRepo by reading memberships across shops.
// On Postgres memberships are tenant rows row-level security hides from a
// global unit of work, so the adapter there replaces this method with its
// definer function (migration 00016).
func (r users) Shops(ctx context.Context, id ports.UserID) ([]ports.ShopID, error) {
	var out []ports.ShopID
	if err := r.t.sel(ctx, &out, `SELECT shop_id FROM memberships WHERE user_id = ?`, id); err != nil {
		return nil, r.t.wrap("user shops", err)
	}
	return out, nil
}

// Delete implements ports.PasswordRepo.
func (r passwords) Delete(ctx context.Context, user ports.UserID) error {
	if _, err := r.t.exec(ctx, `DELETE FROM passwords WHERE user_id = ?`, user); err != nil {
		return r.t.wrap("delete password", err)
	}
	return nil
}

// DeleteByUser implements ports.IdentityRepo.
func (r identities) DeleteByUser(ctx context.Context, user ports.UserID) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM identities WHERE user_id = ?`, user)
	if err != nil {
		return 0, r.t.wrap("delete identities", err)
	}
	return int(n), nil
}

// mailTokens keeps mailed verification and reset tokens (global rows).
type mailTokens struct{ t *Global }

var _ ports.MailTokenRepo = mailTokens{}

// MailTokenRow is a mail token as stored: the columns mailTokenCols
// names, and those the Postgres adapter's definer function returns. It
// scans times in either encoding.
type MailTokenRow struct {
	TokenHash    []byte        `db:"token_hash"`
	Purpose      string        `db:"purpose"`
	Email        string        `db:"email"`
	UserID       *ports.UserID `db:"user_id"`
	Name         string        `db:"name"`
	PasswordHash string        `db:"password_hash"`
	CreatedAt    Time          `db:"created_at"`
	ExpiresAt    Time          `db:"expires_at"`
}

const mailTokenCols = `token_hash, purpose, email, user_id, name, password_hash, created_at, expires_at`

// Port is the row as a ports.MailToken.
func (r MailTokenRow) Port() ports.MailToken {
	m := ports.MailToken{
		TokenHash: r.TokenHash, Purpose: ports.MailTokenPurpose(r.Purpose), Email: r.Email, Name: r.Name,
		PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time,
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
	m.TokenHash = cloneBytes(m.TokenHash)
	m.CreatedAt, m.ExpiresAt = r.t.now(), ports.Timestamp(m.ExpiresAt)
	_, err := r.t.exec(ctx, `INSERT INTO mail_tokens (`+mailTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TokenHash, string(m.Purpose), m.Email, optionalUser(m.UserID), m.Name, m.PasswordHash, m.CreatedAt, m.ExpiresAt)
	if err != nil {
		return ports.MailToken{}, r.t.wrap("create mail token", err)
	}
	return m, nil
}

// Consume is one DELETE of every token of the purpose mailed to the named
// token's address, while the named token is live, returning the named
// row; the single writer serialises concurrent calls, so at most one
// returns it. On Postgres the adapter replaces it with its definer
// function, which runs the same DELETE.
func (r mailTokens) Consume(ctx context.Context, tokenHash []byte, purpose ports.MailTokenPurpose, now time.Time) (ports.MailToken, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.MailToken{}, r.t.notFound("consume mail token")
	}
	var rows []MailTokenRow
	err := r.t.sel(ctx, &rows, `DELETE FROM mail_tokens WHERE purpose = ? AND email =
		(SELECT email FROM mail_tokens WHERE token_hash = ? AND purpose = ? AND expires_at > ?)
		RETURNING `+mailTokenCols, string(purpose), tokenHash, string(purpose), now)
	if err != nil {
		return ports.MailToken{}, r.t.wrap("consume mail token", err)
	}
	for _, row := range rows {
		if bytes.Equal(row.TokenHash, tokenHash) {
			return row.Port(), nil
		}
	}
	return ports.MailToken{}, r.t.notFound("consume mail token")
}

func (r mailTokens) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM mail_tokens WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, r.t.wrap("delete expired mail tokens", err)
	}
	return int(n), nil
}
