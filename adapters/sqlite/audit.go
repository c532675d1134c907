package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx. Triggers refuse UPDATE
// and DELETE of audit_events, and any INSERT that is not the head's next
// event linked to the head's hash (see migration 00017 for what SQLite
// can and cannot guarantee).
type audit struct{ t *shopTx }

type auditRow struct {
	ShopID       ports.ShopID  `db:"shop_id"`
	Seq          int64         `db:"seq"`
	ID           ports.EventID `db:"id"`
	At           int64         `db:"at"`
	Actor        string        `db:"actor"`
	Impersonator string        `db:"impersonator"`
	Action       string        `db:"action"`
	Target       string        `db:"target"`
	Outcome      ports.Outcome `db:"outcome"`
	Before       *string       `db:"before"`
	After        *string       `db:"after"`
	IP           string        `db:"ip"`
	UserAgent    string        `db:"user_agent"`
	RequestID    string        `db:"request_id"`
	PrevHash     []byte        `db:"prev_hash"`
	Hash         []byte        `db:"hash"`
}

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
		ID: r.ID, ShopID: r.ShopID, Seq: r.Seq, Time: fromMicros(r.At),
		Actor: r.Actor, Impersonator: r.Impersonator, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Before: rawJSON(r.Before), After: rawJSON(r.After),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
		PrevHash: prev, Hash: hash,
	}, nil
}

func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

func jsonText(m json.RawMessage) *string {
	if m == nil {
		return nil
	}
	s := string(m)
	return &s
}

// Append reads the shop's head and inserts the event after it; the single
// writer serialises appends, and triggers (migration 00017) check that the
// row is the head's next event and links to its hash, then move the head
// to it, so a rolled-back append leaves the head where it was.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	err := r.t.q.GetContext(ctx, &head, `SELECT seq, hash FROM audit_heads WHERE shop_id = ?`, r.t.shop)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	prev, err := ports.AuditHashFromBytes(head.Hash)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event: head", err)
	}
	e.ShopID, e.Seq, e.Time, e.PrevHash = r.t.shop, head.Seq+1, ports.Timestamp(e.Time), prev
	e.Hash = e.ChainHash()
	row := auditRow{
		ShopID: e.ShopID, Seq: e.Seq, ID: e.ID, At: micros(e.Time),
		Actor: e.Actor, Impersonator: e.Impersonator, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Before: jsonText(e.Before), After: jsonText(e.After),
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		PrevHash: e.PrevHash.Bytes(), Hash: e.Hash.Bytes(),
	}
	_, err = r.t.q.NamedExecContext(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES
		(:shop_id, :seq, :id, :at, :actor, :impersonator, :action, :target, :outcome, :before, :after, :ip, :user_agent, :request_id, :prev_hash, :hash)`, row)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	return e, nil
}

// Unhashed reads the size of the prefix from before the chain, which
// migration 00017 fixed in the head row (zero without a head).
func (r audit) Unhashed(ctx context.Context) (int64, error) {
	var n int64
	err := r.t.q.GetContext(ctx, &n, `SELECT unhashed FROM audit_heads WHERE shop_id = ?`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("read audit prefix", err)
	}
	return n, nil
}

func (r audit) List(ctx context.Context, q ports.AuditQuery) ([]ports.AuditEvent, error) {
	limit := q.PageLimit()
	// Scanned by hand: List is the hot path of verification, and sqlx's
	// reflection was a third of its cost.
	rows, err := r.t.q.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE shop_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		r.t.shop, q.AfterSeq, limit)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	defer rows.Close()
	out := make([]ports.AuditEvent, 0, limit)
	for rows.Next() {
		var row auditRow
		err := rows.Scan(&row.ShopID, &row.Seq, &row.ID, &row.At, &row.Actor, &row.Impersonator, &row.Action, &row.Target,
			&row.Outcome, &row.Before, &row.After, &row.IP, &row.UserAgent, &row.RequestID, &row.PrevHash, &row.Hash)
		if err != nil {
			return nil, wrap("list audit events", err)
		}
		e, err := row.port()
		if err != nil {
			return nil, wrap("list audit events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list audit events", err)
	}
	return out, nil
}
