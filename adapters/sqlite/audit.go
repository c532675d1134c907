package sqlite

import (
	"context"
	"encoding/json"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx.
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
}

const auditCols = `shop_id, seq, id, at, actor, impersonator, action, target, outcome, before, after, ip, user_agent, request_id`

func (r auditRow) port() ports.AuditEvent {
	return ports.AuditEvent{
		ID: r.ID, ShopID: r.ShopID, Seq: r.Seq, Time: fromMicros(r.At),
		Actor: r.Actor, Impersonator: r.Impersonator, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Before: rawJSON(r.Before), After: rawJSON(r.After),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
	}
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

func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	var seq int64
	// The head row serialises appends per shop and makes the sequence
	// gap-free: a rolled-back append rolls its increment back too.
	err := r.t.q.GetContext(ctx, &seq, `INSERT INTO audit_heads (shop_id, seq) VALUES (?, 1)
		ON CONFLICT (shop_id) DO UPDATE SET seq = seq + 1 RETURNING seq`, r.t.shop)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	row := auditRow{
		ShopID: r.t.shop, Seq: seq, ID: e.ID, At: micros(e.Time),
		Actor: e.Actor, Impersonator: e.Impersonator, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Before: jsonText(e.Before), After: jsonText(e.After),
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
	}
	_, err = r.t.q.NamedExecContext(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES
		(:shop_id, :seq, :id, :at, :actor, :impersonator, :action, :target, :outcome, :before, :after, :ip, :user_agent, :request_id)`, row)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	return row.port(), nil
}

func (r audit) List(ctx context.Context, q ports.AuditQuery) ([]ports.AuditEvent, error) {
	limit := q.PageLimit()
	var rows []auditRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+auditCols+` FROM audit_events WHERE shop_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		r.t.shop, q.AfterSeq, limit)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	out := make([]ports.AuditEvent, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
