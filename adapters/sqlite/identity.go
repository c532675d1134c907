package sqlite

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// maxIdentityPart is the longest issuer or subject IdentityRepo.Link accepts.
const maxIdentityPart = 255

// identities keeps links from external OIDC accounts to users (global rows).
type identities struct{ t *globalTx }

type identityRow struct {
	Issuer    string       `db:"issuer"`
	Subject   string       `db:"subject"`
	UserID    ports.UserID `db:"user_id"`
	Email     string       `db:"email"`
	CreatedAt int64        `db:"created_at"`
}

const identityCols = `issuer, subject, user_id, email, created_at`

func (r identityRow) port() ports.Identity {
	return ports.Identity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID, Email: r.Email, CreatedAt: fromMicros(r.CreatedAt)}
}

func (r identities) Link(ctx context.Context, i ports.Identity) (ports.Identity, error) {
	switch {
	case i.Issuer == "" || len(i.Issuer) > maxIdentityPart:
		return ports.Identity{}, ports.Invalid("issuer", "must be 1 to 255 bytes")
	case i.Subject == "" || len(i.Subject) > maxIdentityPart:
		return ports.Identity{}, ports.Invalid("subject", "must be 1 to 255 bytes")
	case i.UserID.IsZero():
		return ports.Identity{}, ports.Invalid("user id", "must be set")
	}
	row := identityRow{Issuer: i.Issuer, Subject: i.Subject, UserID: i.UserID, Email: i.Email, CreatedAt: r.t.store.now()}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO identities (`+identityCols+`) VALUES
		(:issuer, :subject, :user_id, :email, :created_at)`, row)
	if err != nil {
		return ports.Identity{}, wrap("link identity", err)
	}
	return row.port(), nil
}

func (r identities) Get(ctx context.Context, issuer, subject string) (ports.Identity, error) {
	var row identityRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+identityCols+` FROM identities WHERE issuer = ? AND subject = ?`, issuer, subject)
	if err != nil {
		return ports.Identity{}, wrap("get identity", err)
	}
	return row.port(), nil
}

func (r identities) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Identity, error) {
	var rows []identityRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+identityCols+` FROM identities
		WHERE user_id = ? ORDER BY created_at, issuer, subject`, user)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	out := make([]ports.Identity, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
