package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx. The application role
// holds only SELECT on audit_events and appends through one function,
// stockade_audit_append; a trigger refuses UPDATE, DELETE and TRUNCATE for
// every role. Before and After are kept
// as json (the text as given, never re-encoded as jsonb would), so they
// read back byte for byte as they were hashed.
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
		ID: r.ID, ShopID: r.ShopID, Seq: r.Seq, Time: r.At.UTC(),
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

// Append is one statement, one round trip: stockade_audit_append
// (migration 00017), the only way the application role can add to the
// log. Under the shop's head row lock it moves the head on by one, computes
// the event's hash with sha256() over the canonical encoding (the same as
// ports.AppendAuditEncoding, which porttest checks) from the fields it
// stores and the old head's hash, and inserts the event; the lock
// serialises appends to one shop until the transaction ends and a rollback
// undoes the bump, so the sequence has no gaps and concurrent appenders
// build one chain.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	e.ShopID = r.t.shop
	e.Time = ports.Timestamp(e.Time)
	var stored struct {
		Seq      int64  `db:"seq"`
		PrevHash []byte `db:"prev_hash"`
		Hash     []byte `db:"hash"`
	}
	err := sqlx.GetContext(ctx, r.t.q, &stored, `SELECT seq, prev_hash, hash FROM stockade_audit_append(
			$1::uuid, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::text, $8::json, $9::json, $10::text, $11::text, $12::text)`,
		e.ID, e.Time, e.Actor, e.Impersonator, e.Action, e.Target, e.Outcome,
		jsonText(e.Before), jsonText(e.After), e.IP, e.UserAgent, e.RequestID)
	if err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	e.Seq = stored.Seq
	if e.PrevHash, err = ports.AuditHashFromBytes(stored.PrevHash); err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	if e.Hash, err = ports.AuditHashFromBytes(stored.Hash); err != nil {
		return ports.AuditEvent{}, wrap("append audit event", err)
	}
	return e, nil
}

// Unhashed reads the size of the prefix from before the chain, which
// migration 00017 fixed in the head row (zero without a head).
func (r audit) Unhashed(ctx context.Context) (int64, error) {
	var n int64
	err := sqlx.GetContext(ctx, r.t.q, &n, `SELECT unhashed FROM audit_heads WHERE shop_id = $1`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("read audit prefix", err)
	}
	return n, nil
}

// List reads a page in at most two statements. The first asks for the
// seq range a gap-free log fills, (after, after+limit]: an index range scan
// of at most limit rows whatever the planner believes. Only when that comes
// back short (the end of the log, or a gap) does the second ask for the
// rest with an open range; asking with an open range alone lets the planner
// sort every later row of the shop for each page when its statistics are
// stale, which made walking a fresh log quadratic.
func (r audit) List(ctx context.Context, q ports.AuditQuery) ([]ports.AuditEvent, error) {
	limit := q.PageLimit()
	upper := q.AfterSeq + int64(limit)
	if upper < q.AfterSeq { // overflow: nothing can follow
		upper = math.MaxInt64
	}
	out := make([]ports.AuditEvent, 0, limit)
	out, err := r.query(ctx, out, `SELECT `+auditCols+` FROM audit_events
		WHERE shop_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`, r.t.shop, q.AfterSeq, upper)
	if err == nil && len(out) < limit && upper < math.MaxInt64 {
		out, err = r.query(ctx, out, `SELECT `+auditCols+` FROM audit_events
			WHERE shop_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, r.t.shop, upper, limit-len(out))
	}
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	return out, nil
}

// query appends the events a SELECT of auditCols returns to out. It scans
// by hand: List is the hot path of verification, and sqlx's reflection
// was a third of its cost.
func (r audit) query(ctx context.Context, out []ports.AuditEvent, query string, args ...any) ([]ports.AuditEvent, error) {
	rows, err := r.t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var row auditRow
		err := rows.Scan(&row.ShopID, &row.Seq, &row.ID, &row.At, &row.Actor, &row.Impersonator, &row.Action, &row.Target,
			&row.Outcome, &row.Before, &row.After, &row.IP, &row.UserAgent, &row.RequestID, &row.PrevHash, &row.Hash)
		if err != nil {
			return out, err
		}
		e, err := row.port()
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
