package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// MailTokens implements ports.GlobalTx.
func (t *globalTx) MailTokens() ports.MailTokenRepo { return mailTokens{t} }

// MarkVerified implements ports.UserRepo: one conditional UPDATE. Under
// READ COMMITTED a concurrent second call waits for the first's row lock,
// re-checks the WHERE clause against the verified row and matches
// nothing: exactly one reports true.
func (r users) MarkVerified(ctx context.Context, id ports.UserID, at time.Time) (bool, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL`,
		ports.Timestamp(at), id))
	if err != nil {
		return false, wrap("mark verified", err)
	}
	if n == 1 {
		return true, nil
	}
	if _, err := r.Get(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// Shops implements ports.UserRepo through stockade_user_shops (migration
// 00016), which returns shop IDs only: memberships are tenant rows the
// application role cannot read outside InShop.
func (r users) Shops(ctx context.Context, id ports.UserID) ([]ports.ShopID, error) {
	var out []ports.ShopID
	if err := sqlx.SelectContext(ctx, r.t.q, &out, `SELECT stockade_user_shops($1)`, id); err != nil {
		return nil, wrap("user shops", err)
	}
	return out, nil
}

// Delete implements ports.PasswordRepo.
func (r passwords) Delete(ctx context.Context, user ports.UserID) error {
	if _, err := r.t.q.ExecContext(ctx, `DELETE FROM passwords WHERE user_id = $1`, user); err != nil {
		return wrap("delete password", err)
	}
	return nil
}

// DeleteByUser implements ports.IdentityRepo.
func (r identities) DeleteByUser(ctx context.Context, user ports.UserID) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM identities WHERE user_id = $1`, user))
	if err != nil {
		return 0, wrap("delete identities", err)
	}
	return int(n), nil
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
	CreatedAt    time.Time     `db:"created_at"`
	ExpiresAt    time.Time     `db:"expires_at"`
}

const mailTokenCols = `token_hash, purpose, email, user_id, name, password_hash, created_at, expires_at`

func (r mailTokenRow) port() ports.MailToken {
	m := ports.MailToken{
		TokenHash: r.TokenHash, Purpose: ports.MailTokenPurpose(r.Purpose), Email: r.Email, Name: r.Name,
		PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
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
	m.TokenHash = append([]byte(nil), m.TokenHash...)
	m.CreatedAt, m.ExpiresAt = r.t.store.now(), ports.Timestamp(m.ExpiresAt)
	var user *ports.UserID
	if !m.UserID.IsZero() {
		user = &m.UserID
	}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO mail_tokens (`+mailTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		m.TokenHash, string(m.Purpose), m.Email, user, m.Name, m.PasswordHash, m.CreatedAt, m.ExpiresAt)
	if err != nil {
		return ports.MailToken{}, wrap("create mail token", err)
	}
	return m, nil
}

// Consume calls stockade_consume_mail_token (migration 00021): the
// application role cannot read password_hash, so the pending hash comes
// back only through that definer function, which accepts exactly this
// statement. It is one DELETE of every token of the purpose mailed to the
// named token's address, while the named token is live, returning the
// named row only. Under READ COMMITTED a concurrent second call waits for
// the first's row locks and then finds the named row gone: at most one
// returns it.
func (r mailTokens) Consume(ctx context.Context, tokenHash []byte, purpose ports.MailTokenPurpose, now time.Time) (ports.MailToken, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.MailToken{}, notFound("consume mail token")
	}
	var row mailTokenRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT * FROM stockade_consume_mail_token($1, $2, $3)`,
		tokenHash, string(purpose), ports.Timestamp(now))
	if err != nil {
		return ports.MailToken{}, wrap("consume mail token", err)
	}
	return row.port(), nil
}

func (r mailTokens) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM mail_tokens WHERE expires_at <= $1`, ports.Timestamp(now)))
	if err != nil {
		return 0, wrap("delete expired mail tokens", err)
	}
	return int(n), nil
}
