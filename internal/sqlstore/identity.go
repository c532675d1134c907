package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Identities implements ports.GlobalTx.
func (t *Global) Identities() ports.IdentityRepo { return identities{t} }

// identities keeps links from external OIDC accounts to users (global rows).
type identities struct{ t *Global }

var _ ports.IdentityRepo = identities{}

type identityRow struct {
	Issuer    string       `db:"issuer"`
	Subject   string       `db:"subject"`
	UserID    ports.UserID `db:"user_id"`
	Email     string       `db:"email"`
	CreatedAt Time         `db:"created_at"`
}

func (r identityRow) port() ports.Identity {
	return ports.Identity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID, Email: r.Email, CreatedAt: r.CreatedAt.Time}
}

const identityCols = `issuer, subject, user_id, email, created_at`

// maxIdentityPart bounds an issuer or a subject, in bytes.
const maxIdentityPart = 255

// Link validates i in Go (SQLite's CHECK constraints are no stronger) and
// inserts it; the primary key refuses a second link of one (issuer,
// subject) with ErrConflict, the foreign key an unknown user with
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
	i.CreatedAt = r.t.now()
	_, err := r.t.exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES (?, ?, ?, ?, ?)`,
		i.Issuer, i.Subject, i.UserID, i.Email, i.CreatedAt)
	if err != nil {
		return ports.Identity{}, r.t.wrap("link identity", err)
	}
	return i, nil
}

func (r identities) Get(ctx context.Context, issuer, subject string) (ports.Identity, error) {
	var row identityRow
	err := r.t.get(ctx, &row, `SELECT `+identityCols+` FROM identities WHERE issuer = ? AND subject = ?`, issuer, subject)
	if err != nil {
		return ports.Identity{}, r.t.wrap("get identity", err)
	}
	return row.port(), nil
}

func (r identities) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Identity, error) {
	var rows []identityRow
	err := r.t.sel(ctx, &rows, `SELECT `+identityCols+` FROM identities
		WHERE user_id = ? ORDER BY created_at, issuer, subject`, user)
	if err != nil {
		return nil, r.t.wrap("list identities", err)
	}
	out := make([]ports.Identity, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
