package postgres

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// Users implements ports.GlobalTx: the shared user repository
// (internal/sqlstore) with Shops replaced.
func (t *globalTx) Users() ports.UserRepo {
	return users{UserRepo: t.Global.Users(), t: t}
}

// users is the shared user repository with Postgres' own Shops.
type users struct {
	ports.UserRepo
	t *globalTx
}

// Shops implements ports.UserRepo through stockade_user_shops (migration
// 00016), which returns shop IDs only: memberships are tenant rows the
// application role cannot read outside InShop.
func (r users) Shops(ctx context.Context, id ports.UserID) ([]ports.ShopID, error) {
	var out []ports.ShopID
	if err := r.t.q.SelectContext(ctx, &out, `SELECT stockade_user_shops($1)`, id); err != nil {
		return nil, wrap("user shops", err)
	}
	return out, nil
}

// MailTokens implements ports.GlobalTx: the shared repository
// (internal/sqlstore) with Consume replaced.
func (t *globalTx) MailTokens() ports.MailTokenRepo {
	return mailTokens{MailTokenRepo: t.Global.MailTokens(), t: t}
}

// mailTokens is the shared mail-token repository with Postgres' own
// Consume. The application role cannot read a token's hashes (migration
// 00021); Create and DeleteExpired read neither.
type mailTokens struct {
	ports.MailTokenRepo
	t *globalTx
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
	var row sqlstore.MailTokenRow
	err := r.t.q.GetContext(ctx, &row, `SELECT * FROM stockade_consume_mail_token($1, $2, $3)`,
		tokenHash, string(purpose), ports.Timestamp(now))
	if err != nil {
		return ports.MailToken{}, wrap("consume mail token", err)
	}
	return row.Port(), nil
}
