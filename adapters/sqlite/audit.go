package sqlite

import (
	"context"
	"encoding/json"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx. Triggers refuse UPDATE
// and DELETE of audit_events.
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

// Append bumps the shop's head row, which serialises appends per shop (the
// single writer does the rest) and makes the sequence gap-free: a
// rolled-back append rolls its increment back too. The head also holds the
// last hash, which the new event chains to.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	err := r.t.q.GetContext(ctx, &head, `INSERT INTO audit_heads (shop_id, seq) VALUES (?, 1)
		ON CONFLICT (shop_id) DO UPDATE SET seq = seq + 1 RETURNING seq, hash`, r.t.shop)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	prev, err := ports.AuditHashFromBytes(head.Hash)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event: head", err)
	}
	e.ShopID, e.Seq, e.Time, e.PrevHash = r.t.shop, head.Seq, ports.Timestamp(e.Time), prev
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
	if _, err := r.t.q.ExecContext(ctx, `UPDATE audit_heads SET hash = ? WHERE shop_id = ?`, row.Hash, r.t.shop); err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	return e, nil
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
