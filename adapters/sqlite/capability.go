package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Capabilities() ports.CapabilityRepo { return capabilities{t} }

// capabilities is the capability-link repository of one shopTx. Every
// statement binds t.shop; none accepts a shop from the caller.
type capabilities struct{ t *shopTx }

var _ ports.CapabilityRepo = capabilities{}

type capabilityRow struct {
	ShopID     ports.ShopID       `db:"shop_id"`
	ID         ports.CapabilityID `db:"id"`
	TokenHash  []byte             `db:"token_hash"`
	RecordType string             `db:"record_type"`
	RecordID   string             `db:"record_id"`
	Actions    string             `db:"actions"`
	CreatedBy  *ports.UserID      `db:"created_by"`
	CreatedAt  int64              `db:"created_at"`
	ExpiresAt  int64              `db:"expires_at"`
	RevokedAt  *int64             `db:"revoked_at"`
}

const capabilityCols = `shop_id, id, token_hash, record_type, record_id, actions, created_by, created_at, expires_at, revoked_at`

func (r capabilityRow) port() ports.Capability {
	c := ports.Capability{
		ID: r.ID, TokenHash: r.TokenHash, RecordType: r.RecordType, RecordID: r.RecordID,
		Actions: strings.Fields(r.Actions), CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.CreatedBy != nil {
		c.CreatedBy = *r.CreatedBy
	}
	if r.RevokedAt != nil {
		c.RevokedAt = fromMicros(*r.RevokedAt)
	}
	return c
}

// active is the SQL form of ports.Capability.Active; its one parameter is
// the time.
const active = `revoked_at IS NULL AND expires_at > ?`

// Create validates the capability in full before writing: SQLite's CHECK
// constraints bound only the lengths.
func (r capabilities) Create(ctx context.Context, c ports.Capability) (ports.Capability, error) {
	c.Actions = ports.NormalizeActions(c.Actions)
	if err := c.Validate(); err != nil {
		return ports.Capability{}, err
	}
	row := capabilityRow{
		ShopID: r.t.shop, ID: c.ID, TokenHash: cloneBytes(c.TokenHash), RecordType: c.RecordType, RecordID: c.RecordID,
		Actions: strings.Join(c.Actions, " "), CreatedBy: optionalUser(c.CreatedBy), CreatedAt: r.t.store.now(), ExpiresAt: micros(c.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO capabilities (`+capabilityCols+`) VALUES
		(:shop_id, :id, :token_hash, :record_type, :record_id, :actions, :created_by, :created_at, :expires_at, :revoked_at)`, row)
	if err != nil {
		return ports.Capability{}, wrap("create capability", err)
	}
	return row.port(), nil
}

func (r capabilities) Get(ctx context.Context, id ports.CapabilityID) (ports.Capability, error) {
	var row capabilityRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+capabilityCols+` FROM capabilities WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Capability{}, wrap("get capability", err)
	}
	return row.port(), nil
}

// Active is one lookup on the (shop_id, token_hash) unique index.
func (r capabilities) Active(ctx context.Context, tokenHash []byte, now time.Time) (ports.Capability, error) {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Capability{}, fmt.Errorf("sqlite: active capability: %w", ports.ErrNotFound)
	}
	var row capabilityRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+capabilityCols+` FROM capabilities
		WHERE shop_id = ? AND token_hash = ? AND `+active, r.t.shop, tokenHash, micros(now))
	if err != nil {
		return ports.Capability{}, wrap("active capability", err)
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
		args = append(args, micros(at))
	}
	var rows []capabilityRow
	if err := r.t.q.SelectContext(ctx, &rows, query+` ORDER BY created_at DESC, id DESC`, args...); err != nil {
		return nil, wrap("list capabilities", err)
	}
	out := make([]ports.Capability, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Revoke is one conditional UPDATE: the single writer connection
// serialises concurrent calls, and only the first still finds the
// capability active.
func (r capabilities) Revoke(ctx context.Context, id ports.CapabilityID, now time.Time) (ports.Capability, error) {
	at := micros(now)
	var row capabilityRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE capabilities SET revoked_at = ?
		WHERE shop_id = ? AND id = ? AND `+active+` RETURNING `+capabilityCols,
		at, r.t.shop, id, at)
	if err != nil {
		return ports.Capability{}, wrap("revoke capability", err)
	}
	return row.port(), nil
}

func (r capabilities) RevokeRecord(ctx context.Context, recordType, recordID string, now time.Time) (int, error) {
	at := micros(now)
	res, err := r.t.q.ExecContext(ctx, `UPDATE capabilities SET revoked_at = ?
		WHERE shop_id = ? AND record_type = ? AND record_id = ? AND `+active,
		at, r.t.shop, recordType, recordID, at)
	return affected("revoke capabilities of a record", res, err)
}

func (r capabilities) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM capabilities WHERE shop_id = ? AND expires_at < ?`, r.t.shop, micros(now))
	return affected("delete expired capabilities", res, err)
}
