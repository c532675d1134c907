package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx. The application role
// holds only INSERT and SELECT on audit_events, and a trigger refuses
// UPDATE, DELETE and TRUNCATE for every role.
type audit struct{ t *shopTx }

type auditRow struct {
	ShopID       ports.ShopID  `db:"shop_id"`
	Seq          int64         `db:"seq"`
	ID           ports.EventID `db:"id"`
	At           time.Time     `db:"at"`
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
		ID: r.ID, ShopID: r.ShopID, Seq: r.Seq, Time: r.At.UTC(),
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

// Append bumps the shop's head row (a row lock that serialises appends to
// one shop; rolled back with the transaction, so no gaps) and inserts the
// event at the new sequence number, in one statement.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	e.ShopID = r.t.shop
	e.Time = ports.Timestamp(e.Time)
	err := sqlx.GetContext(ctx, r.t.q, &e.Seq, `WITH head AS (
			INSERT INTO audit_heads (shop_id, seq) VALUES ($1::uuid, 1)
			ON CONFLICT (shop_id) DO UPDATE SET seq = audit_heads.seq + 1
			RETURNING seq)
		INSERT INTO audit_events (`+auditCols+`)
		SELECT $1::uuid, head.seq, $2::uuid, $3::timestamptz, $4::text, $5::text, $6::text, $7::text, $8::text,
			$9::json, $10::json, $11::text, $12::text, $13::text FROM head
		RETURNING seq`,
		r.t.shop, e.ID, e.Time, e.Actor, e.Impersonator, e.Action, e.Target, e.Outcome,
		jsonText(e.Before), jsonText(e.After), e.IP, e.UserAgent, e.RequestID)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	return e, nil
}

func (r audit) List(ctx context.Context, q ports.AuditQuery) ([]ports.AuditEvent, error) {
	limit := q.PageLimit()
	var rows []auditRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+auditCols+` FROM audit_events
		WHERE shop_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, r.t.shop, q.AfterSeq, limit)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	out := make([]ports.AuditEvent, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
