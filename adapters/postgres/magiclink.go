package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// magicLinks is the magic-link repository of one shopTx. Every statement
// binds t.shop, and row-level security holds it to that shop as well.
type magicLinks struct{ t *shopTx }

type magicLinkRow struct {
	TokenHash  []byte       `db:"token_hash"`
	UserID     ports.UserID `db:"user_id"`
	Email      string       `db:"email"`
	CreatedAt  time.Time    `db:"created_at"`
	ExpiresAt  time.Time    `db:"expires_at"`
	ConsumedAt sql.NullTime `db:"consumed_at"`
}

func (r magicLinkRow) port() ports.MagicLink {
	l := ports.MagicLink{TokenHash: r.TokenHash, UserID: r.UserID, Email: r.Email, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.ConsumedAt.Valid {
		l.ConsumedAt = r.ConsumedAt.Time.UTC()
	}
	return l
}

const magicLinkCols = `token_hash, user_id, email, created_at, expires_at, consumed_at`

// Create inserts the link. The foreign key to memberships refuses a user
// who is not a member of this shop with ErrNotFound: a link signs a user
// into this shop, so a non-member has nothing to sign into.
func (r magicLinks) Create(ctx context.Context, l ports.MagicLink) (ports.MagicLink, error) {
	switch {
	case len(l.TokenHash) != ports.TokenHashSize:
		return ports.MagicLink{}, ports.Invalid("token hash", "must be a SHA-256 digest")
	case l.UserID.IsZero():
		return ports.MagicLink{}, ports.Invalid("user id", "must be set")
	case l.ExpiresAt.IsZero():
		return ports.MagicLink{}, ports.Invalid("expires at", "must be set")
	}
	l.TokenHash = append([]byte(nil), l.TokenHash...)
	l.CreatedAt, l.ExpiresAt, l.ConsumedAt = r.t.store.now(), ports.Timestamp(l.ExpiresAt), time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO magic_links (shop_id, `+magicLinkCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
		r.t.shop, l.TokenHash, l.UserID, l.Email, l.CreatedAt, l.ExpiresAt)
	if err != nil {
		return ports.MagicLink{}, wrap("create magic link", err)
	}
	return l, nil
}

// Consume is one conditional UPDATE. Under READ COMMITTED a concurrent
// second call waits for the first's row lock, then re-checks the WHERE
// clause against the consumed row and matches nothing: at most one wins.
func (r magicLinks) Consume(ctx context.Context, tokenHash []byte, now time.Time) (ports.MagicLink, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.MagicLink{}, notFound("consume magic link")
	}
	var row magicLinkRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE magic_links SET consumed_at = $3
		WHERE shop_id = $1 AND token_hash = $2 AND consumed_at IS NULL AND expires_at > $3
		RETURNING `+magicLinkCols, r.t.shop, tokenHash, ports.Timestamp(now))
	if err != nil {
		return ports.MagicLink{}, wrap("consume magic link", err)
	}
	return row.port(), nil
}

func (r magicLinks) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM magic_links WHERE shop_id = $1 AND expires_at < $2`, r.t.shop, ports.Timestamp(now)))
	if err != nil {
		return 0, wrap("delete expired magic links", err)
	}
	return int(n), nil
}
