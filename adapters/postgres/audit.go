package postgres

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// audit is the append-only audit log of one shopTx. The application role
// holds only INSERT and SELECT on audit_events, and a trigger refuses
// UPDATE, DELETE and TRUNCATE for every role. Before and After are kept
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

// zeroHash is the previous hash of a chain's first event.
var zeroHash = make([]byte, ports.AuditHashSize)

// Append is one statement, one round trip. It bumps the shop's head row:
// the row lock serialises appends to one shop until the transaction ends,
// and a rollback undoes the bump, so the sequence has no gaps. In the same
// UPDATE it moves the head's hash forward with sha256() over the canonical
// encoding: the parts that do not depend on the head are encoded here
// (ports.SplitAuditEncoding) and the database only splices in the new
// sequence number and the old head hash, which it reads under the lock, so
// concurrent appenders build one chain. The event row takes the head's
// new seq, prev_hash and hash.
func (r audit) Append(ctx context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	e.ShopID = r.t.shop
	e.Time = ports.Timestamp(e.Time)
	pre, body := ports.SplitAuditEncoding(e)
	var stored struct {
		Seq      int64  `db:"seq"`
		PrevHash []byte `db:"prev_hash"`
		Hash     []byte `db:"hash"`
	}
	err := sqlx.GetContext(ctx, r.t.q, &stored, `WITH head AS (
			INSERT INTO audit_heads AS h (shop_id, seq, prev_hash, hash)
			VALUES ($1::uuid, 1, NULL, sha256($14::bytea || int8send(1) || $15::bytea || $16::bytea))
			ON CONFLICT (shop_id) DO UPDATE SET
				seq = h.seq + 1,
				prev_hash = h.hash,
				hash = sha256($14::bytea || int8send(h.seq + 1) || $15::bytea || coalesce(h.hash, $16::bytea))
			RETURNING seq, prev_hash, hash)
		INSERT INTO audit_events (`+auditCols+`)
		SELECT $1::uuid, head.seq, $2::uuid, $3::timestamptz, $4::text, $5::text, $6::text, $7::text, $8::text,
			$9::json, $10::json, $11::text, $12::text, $13::text, head.prev_hash, head.hash FROM head
		RETURNING seq, prev_hash, hash`,
		r.t.shop, e.ID, e.Time, e.Actor, e.Impersonator, e.Action, e.Target, e.Outcome,
		jsonText(e.Before), jsonText(e.After), e.IP, e.UserAgent, e.RequestID, pre, body, zeroHash)
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
