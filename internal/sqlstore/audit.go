package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"

	"github.com/stockadehq/stockade/ports"
)

// Audit implements ports.ShopTx. Postgres' unit of work defines its own
// Audit, whose Append calls the SECURITY DEFINER stockade_audit_append
// and which uses this repository for everything else.
func (t *Shop) Audit() ports.AuditRepo { return audit{t} }

// audit is the append-only audit log of one Shop. Every statement binds
// t.shop; none accepts a shop from the caller. The database refuses UPDATE
// and DELETE of audit_events (triggers on both, and on Postgres the
// application role holds only SELECT). Before and After are kept as the
// text given (json on Postgres, never re-encoded as jsonb would be), so
// they read back byte for byte as they were hashed.
type audit struct{ t *Shop }

var _ ports.AuditRepo = audit{}

type auditRow struct {
	ShopID       ports.ShopID
	Seq          int64
	ID           ports.EventID
	At           Time
	Actor        string
	Impersonator string
	Action       string
	Target       string
	Outcome      ports.Outcome
	// Before and After scan through sql.NullString: a driver may read a
	// stored JSON null into a nil *string, which must not look like NULL.
	Before    sql.NullString
	After     sql.NullString
	IP        string
	UserAgent string
	RequestID string
	PrevHash  []byte
	Hash      []byte
}

// auditCols are the columns auditRow scans, in its order.
const auditCols = `shop_id, seq, id, at, actor, impersonator, action, target, outcome, before, after, ip, user_agent, request_id, prev_hash, hash`

func (r auditRow) port() (ports.AuditEvent, error) {
	prev, err := ports.AuditHashFromBytes(r.PrevHash)
	if err != nil {
		return ports.AuditEvent{}, err
	}
	hash, err := ports.AuditHashFromBytes(r.Hash)
	if err != nil {
		return ports.AuditEvent{}, err
	}
	return ports.AuditEvent{
		ID: r.ID, ShopID: r.ShopID, Seq: r.Seq, Time: r.At.Time,
		Actor: r.Actor, Impersonator: r.Impersonator, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Before: rawJSON(r.Before), After: rawJSON(r.After),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
		PrevHash: prev, Hash: hash,
	}, nil
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

// JSONText is m as stored in a json (Postgres) or text (SQLite) column:
// its text unchanged, or NULL for nil.
func JSONText(m json.RawMessage) *string {
	if m == nil {
		return nil
	}
	s := string(m)
	return &s
}

// Append is the append of a database whose triggers guard the chain
// (SQLite, its migration 00017): it reads the shop's head and inserts the
// event after it, hashed here (ports.AuditEvent.ChainHash); the triggers
// check that the row is the head's next event and links to its hash, then
// move the head to it, so a rolled-back append leaves the head where it
// was. Appends to one shop are serialised by the database's one writer,
// which a writing unit of work holds from its start. On Postgres the
// application role may not INSERT into audit_events; its adapter appends
// through its own function instead.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	err := r.t.get(ctx, &head, `SELECT seq, hash FROM audit_heads WHERE shop_id = ?`, r.t.shop)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ports.AuditEvent{}, r.t.wrap("append audit event", err)
	}
	prev, err := ports.AuditHashFromBytes(head.Hash)
	if err != nil {
		return ports.AuditEvent{}, r.t.wrap("append audit event: head", err)
	}
	e.ShopID, e.Seq, e.Time, e.PrevHash = r.t.shop, head.Seq+1, ports.Timestamp(e.Time), prev
	e.Hash = e.ChainHash()
	_, err = r.t.exec(ctx, `INSERT INTO audit_events (`+auditCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ShopID, e.Seq, e.ID, e.Time, e.Actor, e.Impersonator, e.Action, e.Target,
		e.Outcome, JSONText(e.Before), JSONText(e.After), e.IP, e.UserAgent, e.RequestID,
		e.PrevHash.Bytes(), e.Hash.Bytes())
	if err != nil {
		return ports.AuditEvent{}, r.t.wrap("append audit event", err)
	}
	return e, nil
}

// Unhashed reads the size of the prefix from before the chain, which
// migration 00017 fixed in the head row (zero without a head).
func (r audit) Unhashed(ctx context.Context) (int64, error) {
	var n int64
	err := r.t.get(ctx, &n, `SELECT unhashed FROM audit_heads WHERE shop_id = ?`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, r.t.wrap("read audit prefix", err)
	}
	return n, nil
}

// List reads a page in at most two statements. The first asks for the
// seq range a gap-free log fills, (after, after+limit]: an index range scan
// of at most limit rows whatever the planner believes. Only when that comes
// back short (the end of the log, or a gap) does the second ask for the
// rest with an open range; asking with an open range alone lets Postgres'
// planner sort every later row of the shop for each page when its
// statistics are stale, which made walking a fresh log quadratic.
func (r audit) List(ctx context.Context, q ports.AuditQuery) ([]ports.AuditEvent, error) {
	limit := q.PageLimit()
	upper := q.AfterSeq + int64(limit)
	if upper < q.AfterSeq { // overflow: nothing can follow
		upper = math.MaxInt64
	}
	out := make([]ports.AuditEvent, 0, limit)
	out, err := r.query(ctx, out, `SELECT `+auditCols+` FROM audit_events
		WHERE shop_id = ? AND seq > ? AND seq <= ? ORDER BY seq`, r.t.shop, q.AfterSeq, upper)
	if err == nil && len(out) < limit && upper < math.MaxInt64 {
		out, err = r.query(ctx, out, `SELECT `+auditCols+` FROM audit_events
			WHERE shop_id = ? AND seq > ? ORDER BY seq LIMIT ?`, r.t.shop, upper, limit-len(out))
	}
	if err != nil {
		return nil, r.t.wrap("list audit events", err)
	}
	return out, nil
}

// query appends the events a SELECT of auditCols returns to out. It scans
// by hand: List is the hot path of verification, and sqlx's reflection
// was a third of its cost. Errors come back unwrapped.
func (r audit) query(ctx context.Context, out []ports.AuditEvent, query string, args ...any) ([]ports.AuditEvent, error) {
	err := r.t.q.QueryEach(ctx, r.t.d.Rebind(query), r.t.d.Args(args), func(scan func(...any) error) error {
		var row auditRow
		err := scan(&row.ShopID, &row.Seq, &row.ID, &row.At, &row.Actor, &row.Impersonator, &row.Action, &row.Target,
			&row.Outcome, &row.Before, &row.After, &row.IP, &row.UserAgent, &row.RequestID, &row.PrevHash, &row.Hash)
		if err != nil {
			return err
		}
		e, err := row.port()
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}
