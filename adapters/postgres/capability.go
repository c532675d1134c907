package postgres

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Capabilities() ports.CapabilityRepo { return capabilities{t} }

// capabilities is the capability-link repository of one shopTx. Every
// statement binds t.shop, and row-level security holds it to that shop
// as well.
type capabilities struct{ t *shopTx }

var _ ports.CapabilityRepo = capabilities{}

type capabilityRow struct {
	ID         ports.CapabilityID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	RecordType string             `db:"record_type"`
	RecordID   string             `db:"record_id"`
	Actions    string             `db:"actions"`
	CreatedBy  *ports.UserID      `db:"created_by"`
	CreatedAt  time.Time          `db:"created_at"`
	ExpiresAt  time.Time          `db:"expires_at"`
	RevokedAt  sql.NullTime       `db:"revoked_at"`
}

const capabilityCols = `id, token_hash, record_type, record_id, actions, created_by, created_at, expires_at, revoked_at`

func (r capabilityRow) port() ports.Capability {
	c := ports.Capability{
		ID: r.ID, TokenHash: r.TokenHash, RecordType: r.RecordType, RecordID: r.RecordID,
		Actions: strings.Fields(r.Actions), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.CreatedBy != nil {
		c.CreatedBy = *r.CreatedBy
	}
	if r.RevokedAt.Valid {
		c.RevokedAt = r.RevokedAt.Time.UTC()
	}
	return c
}

// activeAt is the SQL form of ports.Capability.Active at the time in
// parameter $2.
const activeAt = `revoked_at IS NULL AND expires_at > $2`

// Create inserts the capability. The foreign keys refuse an unknown
// creator or shop with ErrNotFound.
func (r capabilities) Create(ctx context.Context, c ports.Capability) (ports.Capability, error) {
	c.Actions = ports.NormalizeActions(c.Actions)
	if err := c.Validate(); err != nil {
		return ports.Capability{}, err
	}
	c.TokenHash = cloneBytes(c.TokenHash)
	c.CreatedAt, c.ExpiresAt, c.RevokedAt = r.t.store.now(), ports.Timestamp(c.ExpiresAt), time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO capabilities (shop_id, id, token_hash, record_type, record_id, actions, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.t.shop, c.ID, c.TokenHash, c.RecordType, c.RecordID, strings.Join(c.Actions, " "), optionalUser(c.CreatedBy), c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return ports.Capability{}, wrap("create capability", err)
	}
	return c, nil
}

func (r capabilities) Get(ctx context.Context, id ports.CapabilityID) (ports.Capability, error) {
	var row capabilityRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+capabilityCols+` FROM capabilities WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
	if err != nil {
		return ports.Capability{}, wrap("get capability", err)
	}
	return row.port(), nil
}

// Active is one lookup on the (shop_id, token_hash) unique index.
func (r capabilities) Active(ctx context.Context, tokenHash []byte, now time.Time) (ports.Capability, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Capability{}, notFound("active capability")
	}
	var row capabilityRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+capabilityCols+` FROM capabilities
		WHERE shop_id = $1 AND `+activeAt+` AND token_hash = $3`, r.t.shop, ports.Timestamp(now), tokenHash)
	if err != nil {
		return ports.Capability{}, wrap("active capability", err)
	}
	return row.port(), nil
}

func (r capabilities) ListByRecord(ctx context.Context, recordType, recordID string, at time.Time) ([]ports.Capability, error) {
	if ports.ValidateRecordType(recordType) != nil || ports.ValidateRecordID(recordID) != nil {
		return []ports.Capability{}, nil
	}
	query, args := `SELECT `+capabilityCols+` FROM capabilities WHERE shop_id = $1 AND record_type = $2 AND record_id = $3`,
		[]any{r.t.shop, recordType, recordID}
	if !at.IsZero() {
		query += ` AND revoked_at IS NULL AND expires_at > $4`
		args = append(args, ports.Timestamp(at))
	}
	var rows []capabilityRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, query+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, wrap("list capabilities", err)
	}
	out := make([]ports.Capability, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Revoke is one conditional UPDATE: under READ COMMITTED a concurrent
// second call waits for the first's row lock, re-checks the WHERE clause
// against the revoked row and matches nothing.
func (r capabilities) Revoke(ctx context.Context, id ports.CapabilityID, now time.Time) (ports.Capability, error) {
	var row capabilityRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE capabilities SET revoked_at = $2
		WHERE shop_id = $1 AND id = $3 AND `+activeAt+` RETURNING `+capabilityCols,
		r.t.shop, ports.Timestamp(now), id)
	if err != nil {
		return ports.Capability{}, wrap("revoke capability", err)
	}
	return row.port(), nil
}

func (r capabilities) RevokeRecord(ctx context.Context, recordType, recordID string, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE capabilities SET revoked_at = $2
		WHERE shop_id = $1 AND record_type = $3 AND record_id = $4 AND `+activeAt,
		r.t.shop, ports.Timestamp(now), recordType, recordID))
	if err != nil {
		return 0, wrap("revoke capabilities of a record", err)
	}
	return int(n), nil
}

func (r capabilities) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM capabilities WHERE shop_id = $1 AND expires_at < $2`,
		r.t.shop, ports.Timestamp(now)))
	if err != nil {
		return 0, wrap("delete expired capabilities", err)
	}
	return int(n), nil
}
