package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Capabilities implements ports.ShopTx.
func (t *Shop) Capabilities() ports.CapabilityRepo { return capabilities{t} }

// capabilities is the capability-link repository of one Shop. Every
// statement binds t.shop; none accepts a shop from the caller.
type capabilities struct{ t *Shop }

var _ ports.CapabilityRepo = capabilities{}

type capabilityRow struct {
	ID         ports.CapabilityID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	RecordType string             `db:"record_type"`
	RecordID   string             `db:"record_id"`
	Actions    string             `db:"actions"`
	CreatedBy  *ports.UserID      `db:"created_by"`
	CreatedAt  Time               `db:"created_at"`
	ExpiresAt  Time               `db:"expires_at"`
	RevokedAt  Time               `db:"revoked_at"`
}

const capabilityCols = `id, token_hash, record_type, record_id, actions, created_by, created_at, expires_at, revoked_at`

func (r capabilityRow) port() ports.Capability {
	c := ports.Capability{
		ID: r.ID, TokenHash: r.TokenHash, RecordType: r.RecordType, RecordID: r.RecordID,
		Actions: strings.Fields(r.Actions), CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time, RevokedAt: r.RevokedAt.Time,
	}
	if r.CreatedBy != nil {
		c.CreatedBy = *r.CreatedBy
	}
	return c
}

// active is the SQL form of ports.Capability.Active; its one parameter is
// the time.
const active = `revoked_at IS NULL AND expires_at > ?`

// Create validates the capability in full before writing (SQLite's CHECK
// constraints bound only the lengths). The foreign keys refuse an unknown
// creator or shop with ErrNotFound.
func (r capabilities) Create(ctx context.Context, c ports.Capability) (ports.Capability, error) {
	c.Actions = ports.NormalizeActions(c.Actions)
	if err := c.Validate(); err != nil {
		return ports.Capability{}, err
	}
	c.TokenHash = cloneBytes(c.TokenHash)
	c.CreatedAt, c.ExpiresAt, c.RevokedAt = r.t.now(), ports.Timestamp(c.ExpiresAt), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO capabilities (shop_id, id, token_hash, record_type, record_id, actions, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, c.ID, c.TokenHash, c.RecordType, c.RecordID, strings.Join(c.Actions, " "), optionalUser(c.CreatedBy), c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return ports.Capability{}, r.t.wrap("create capability", err)
	}
	return c, nil
}

func (r capabilities) Get(ctx context.Context, id ports.CapabilityID) (ports.Capability, error) {
	var row capabilityRow
	err := r.t.get(ctx, &row, `SELECT `+capabilityCols+` FROM capabilities WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Capability{}, r.t.wrap("get capability", err)
	}
	return row.port(), nil
}

// Active is one lookup on the (shop_id, token_hash) unique index.
func (r capabilities) Active(ctx context.Context, tokenHash []byte, now time.Time) (ports.Capability, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Capability{}, r.t.notFound("active capability")
	}
	var row capabilityRow
	err := r.t.get(ctx, &row, `SELECT `+capabilityCols+` FROM capabilities
		WHERE shop_id = ? AND token_hash = ? AND `+active, r.t.shop, tokenHash, now)
	if err != nil {
		return ports.Capability{}, r.t.wrap("active capability", err)
	}
	return row.port(), nil
}

func (r capabilities) ListByRecord(ctx context.Context, recordType, recordID string, at time.Time) ([]ports.Capability, error) {
	if ports.ValidateRecordType(recordType) != nil || ports.ValidateRecordID(recordID) != nil {
		return []ports.Capability{}, nil
	}
	query, args := `SELECT `+capabilityCols+` FROM capabilities WHERE shop_id = ? AND record_type = ? AND record_id = ?`,
		[]any{r.t.shop, recordType, recordID}
	if !at.IsZero() {
		query += ` AND ` + active
		args = append(args, at)
	}
	var rows []capabilityRow
	if err := r.t.sel(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, r.t.wrap("list capabilities", err)
	}
	out := make([]ports.Capability, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Revoke is one conditional UPDATE. On Postgres (READ COMMITTED) a
// concurrent second call waits for the first's row lock, re-checks the
// WHERE clause against the revoked row and matches nothing; on SQLite the
// one writer serialises them the same way.
func (r capabilities) Revoke(ctx context.Context, id ports.CapabilityID, now time.Time) (ports.Capability, error) {
	var row capabilityRow
	err := r.t.get(ctx, &row, `UPDATE capabilities SET revoked_at = ?
		WHERE shop_id = ? AND id = ? AND `+active+` RETURNING `+capabilityCols,
		now, r.t.shop, id, now)
	if err != nil {
		return ports.Capability{}, r.t.wrap("revoke capability", err)
	}
	return row.port(), nil
}

func (r capabilities) RevokeRecord(ctx context.Context, recordType, recordID string, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `UPDATE capabilities SET revoked_at = ?
		WHERE shop_id = ? AND record_type = ? AND record_id = ? AND `+active,
		now, r.t.shop, recordType, recordID, now)
	if err != nil {
		return 0, r.t.wrap("revoke capabilities of a record", err)
	}
	return int(n), nil
}

func (r capabilities) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM capabilities WHERE shop_id = ? AND expires_at < ?`, r.t.shop, now)
	if err != nil {
		return 0, r.t.wrap("delete expired capabilities", err)
	}
	return int(n), nil
}
