package postgres

import (
	"context"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// Audit implements ports.ShopTx: the shared log (internal/sqlstore), but
// for Append. The application role holds only SELECT on audit_events and
// appends through one function, stockade_audit_append; a trigger refuses
// UPDATE, DELETE and TRUNCATE for every role.
func (t *shopTx) Audit() ports.AuditRepo { return audit{AuditRepo: t.Shop.Audit(), t: t} }

// audit is the audit log of one shopTx: List, Search and Unhashed are the
// shared repository's, Append is Postgres' own.
type audit struct {
	ports.AuditRepo
	t *shopTx
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
	err := r.t.q.GetContext(ctx, &stored, `SELECT seq, prev_hash, hash FROM stockade_audit_append(
			$1::uuid, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::text, $8::json, $9::json, $10::text, $11::text, $12::text)`,
		e.ID, e.Time, e.Actor, e.Impersonator, e.Action, e.Target, e.Outcome,
		sqlstore.JSONText(e.Before), sqlstore.JSONText(e.After), e.IP, e.UserAgent, e.RequestID)
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
