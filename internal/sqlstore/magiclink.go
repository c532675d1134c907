package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// MagicLinks implements ports.ShopTx.
func (t *Shop) MagicLinks() ports.MagicLinkRepo { return magicLinks{t} }

// magicLinks is the magic-link repository of one Shop. Every statement
// binds t.shop; none accepts a shop from the caller.
type magicLinks struct{ t *Shop }

var _ ports.MagicLinkRepo = magicLinks{}

type magicLinkRow struct {
	TokenHash  []byte       `db:"token_hash"`
	UserID     ports.UserID `db:"user_id"`
	Email      string       `db:"email"`
	CreatedAt  Time         `db:"created_at"`
	ExpiresAt  Time         `db:"expires_at"`
	ConsumedAt Time         `db:"consumed_at"`
}

func (r magicLinkRow) port() ports.MagicLink {
	return ports.MagicLink{
		TokenHash: r.TokenHash, UserID: r.UserID, Email: r.Email,
		CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time, ConsumedAt: r.ConsumedAt.Time,
	}
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
	l.TokenHash = cloneBytes(l.TokenHash)
	l.CreatedAt, l.ExpiresAt, l.ConsumedAt = r.t.now(), ports.Timestamp(l.ExpiresAt), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO magic_links (shop_id, `+magicLinkCols+`)
		VALUES (?, ?, ?, ?, ?, ?, NULL)`,
		r.t.shop, l.TokenHash, l.UserID, l.Email, l.CreatedAt, l.ExpiresAt)
	if err != nil {
		return ports.MagicLink{}, r.t.wrap("create magic link", err)
	}
	return l, nil
}

// Consume is one conditional UPDATE: at most one of concurrent calls wins.
// On Postgres (READ COMMITTED) a second call waits for the first's row
// lock, then re-checks the WHERE clause against the consumed row and
// matches nothing; on SQLite the one writer serialises them the same way.
func (r magicLinks) Consume(ctx context.Context, tokenHash []byte, now time.Time) (ports.MagicLink, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.MagicLink{}, r.t.notFound("consume magic link")
	}
	var row magicLinkRow
	err := r.t.get(ctx, &row, `UPDATE magic_links SET consumed_at = ?
		WHERE shop_id = ? AND token_hash = ? AND consumed_at IS NULL AND expires_at > ?
		RETURNING `+magicLinkCols, now, r.t.shop, tokenHash, now)
	if err != nil {
		return ports.MagicLink{}, r.t.wrap("consume magic link", err)
	}
	return row.port(), nil
}

func (r magicLinks) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM magic_links WHERE shop_id = ? AND expires_at < ?`, r.t.shop, now)
	if err != nil {
		return 0, r.t.wrap("delete expired magic links", err)
	}
	return int(n), nil
}
