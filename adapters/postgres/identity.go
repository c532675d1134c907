package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// identities keeps links from external OIDC accounts to users (global rows).
type identities struct{ t *globalTx }

type identityRow struct {
	Issuer    string       `db:"issuer"`
	Subject   string       `db:"subject"`
	UserID    ports.UserID `db:"user_id"`
	Email     string       `db:"email"`
	CreatedAt time.Time    `db:"created_at"`
}

func (r identityRow) port() ports.Identity {
	return ports.Identity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID, Email: r.Email, CreatedAt: r.CreatedAt.UTC()}
}

const identityCols = `issuer, subject, user_id, email, created_at`

// maxIdentityPart bounds an issuer or a subject, in bytes.
const maxIdentityPart = 255

// Link inserts the identity; the primary key refuses a second link of one
// (issuer, subject) with ErrConflict, the foreign key an unknown user with
// ErrNotFound.
func (r identities) Link(ctx context.Context, i ports.Identity) (ports.Identity, error) {
	switch {
	case i.Issuer == "" || len(i.Issuer) > maxIdentityPart:
		return ports.Identity{}, ports.Invalid("issuer", "must be 1 to 255 bytes")
	case i.Subject == "" || len(i.Subject) > maxIdentityPart:
		return ports.Identity{}, ports.Invalid("subject", "must be 1 to 255 bytes")
	case i.UserID.IsZero():
		return ports.Identity{}, ports.Invalid("user id", "must be set")
	}
	i.CreatedAt = r.t.store.now()
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO identities (`+identityCols+`) VALUES ($1, $2, $3, $4, $5)`,
		i.Issuer, i.Subject, i.UserID, i.Email, i.CreatedAt)
	if err != nil {
		return ports.Identity{}, wrap("link identity", err)
	}
	return i, nil
}

func (r identities) Get(ctx context.Context, issuer, subject string) (ports.Identity, error) {
	var row identityRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+identityCols+` FROM identities WHERE issuer = $1 AND subject = $2`, issuer, subject)
	if err != nil {
		return ports.Identity{}, wrap("get identity", err)
	}
	return row.port(), nil
}

func (r identities) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Identity, error) {
	var rows []identityRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+identityCols+` FROM identities
		WHERE user_id = $1 ORDER BY created_at, issuer, subject`, user)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	out := make([]ports.Identity, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
