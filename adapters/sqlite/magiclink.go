package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// magicLinks is the magic-link repository of one shopTx. Every statement
// binds t.shop; none accepts a shop from the caller.
type magicLinks struct{ t *shopTx }

type magicLinkRow struct {
	ShopID     ports.ShopID `db:"shop_id"`
	TokenHash  []byte       `db:"token_hash"`
	UserID     ports.UserID `db:"user_id"`
	Email      string       `db:"email"`
	CreatedAt  int64        `db:"created_at"`
	ExpiresAt  int64        `db:"expires_at"`
	ConsumedAt *int64       `db:"consumed_at"`
}

const magicLinkCols = `shop_id, token_hash, user_id, email, created_at, expires_at, consumed_at`

func (r magicLinkRow) port() ports.MagicLink {
	l := ports.MagicLink{
		TokenHash: r.TokenHash, UserID: r.UserID, Email: r.Email,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.ConsumedAt != nil {
		l.ConsumedAt = fromMicros(*r.ConsumedAt)
	}
	return l
}

func (r magicLinks) Create(ctx context.Context, l ports.MagicLink) (ports.MagicLink, error) {
	switch {
	case len(l.TokenHash) != ports.TokenHashSize:
		return ports.MagicLink{}, ports.Invalid("token hash", "must be a SHA-256 digest")
	case l.UserID.IsZero():
		return ports.MagicLink{}, ports.Invalid("user id", "must be set")
	case l.ExpiresAt.IsZero():
		return ports.MagicLink{}, ports.Invalid("expires at", "must be set")
	}
	row := magicLinkRow{
		ShopID: r.t.shop, TokenHash: append([]byte(nil), l.TokenHash...), UserID: l.UserID, Email: l.Email,
		CreatedAt: r.t.store.now(), ExpiresAt: micros(l.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO magic_links (`+magicLinkCols+`) VALUES
		(:shop_id, :token_hash, :user_id, :email, :created_at, :expires_at, :consumed_at)`, row)
	if err != nil {
		return ports.MagicLink{}, wrap("create magic link", err)
	}
	return row.port(), nil
}

// Consume is one conditional UPDATE: the single writer connection
// serialises concurrent calls, and only the first still finds the link
// unconsumed.
func (r magicLinks) Consume(ctx context.Context, tokenHash []byte, now time.Time) (ports.MagicLink, error) {
	at := micros(now)
	var row magicLinkRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE magic_links SET consumed_at = ?
		WHERE shop_id = ? AND token_hash = ? AND consumed_at IS NULL AND expires_at > ?
		RETURNING `+magicLinkCols, at, r.t.shop, tokenHash, at)
	if err != nil {
		return ports.MagicLink{}, wrap("consume magic link", err)
	}
	return row.port(), nil
}

func (r magicLinks) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM magic_links WHERE shop_id = ? AND expires_at < ?`, r.t.shop, micros(now))
	return affected("delete expired magic links", res, err)
}
