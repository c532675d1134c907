package ports

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// Outcome is how an audited action ended.
type Outcome string

// Audit outcomes. An action audited before it runs (AUD-3) appends an
// OutcomeAttempted event first and its result afterwards.
const (
	OutcomeAttempted Outcome = "attempted"
	OutcomeSuccess   Outcome = "success"
	OutcomeFailure   Outcome = "failure"
	OutcomeDenied    Outcome = "denied"
)

// AuditEvent is one entry of a shop's append-only audit log.
type AuditEvent struct {
	ID     EventID
	ShopID ShopID // set by the store from the unit of work
	// Seq is the event's position in its shop's log: 1, 2, 3, … with no
	// gaps, assigned by the store at append time.
	Seq          int64
	Time         time.Time
	Actor        string // who acted, e.g. "user:<id>", "operator:<id>", "system"
	Impersonator string // the operator behind an impersonated actor, if any
	Action       string // dotted verb, e.g. "membership.role_changed"
	Target       string // what was acted on, e.g. "user:<id>"
	Outcome      Outcome
	Before       json.RawMessage // state before the change, secrets redacted; may be nil
	After        json.RawMessage // state after the change, secrets redacted; may be nil
	IP           string
	UserAgent    string
	RequestID    string
	// PrevHash and Hash link the event into its shop's hash chain (see
	// AuditHash); the store assigns both at append time, whatever the
	// caller set.
	PrevHash AuditHash
	Hash     AuditHash
}

// Validate checks an event before it is appended.
func (e AuditEvent) Validate() error {
	if e.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if e.Time.IsZero() {
		return Invalid("time", "must be set")
	}
	if e.Actor == "" {
		return Invalid("actor", "must be set")
	}
	if e.Action == "" || len(e.Action) > 100 {
		return Invalid("action", "must be 1 to 100 bytes")
	}
	switch e.Outcome {
	case OutcomeAttempted, OutcomeSuccess, OutcomeFailure, OutcomeDenied:
	default:
		return Invalid("outcome", "must be attempted, success, failure or denied")
	}
	for _, f := range []string{e.Actor, e.Impersonator, e.Action, e.Target, e.IP, e.UserAgent, e.RequestID} {
		if !utf8.ValidString(f) {
			// Text is hashed as stored and exported as JSON, which cannot
			// carry other bytes: the export would not verify.
			return Invalid("text fields", "must be valid UTF-8")
		}
	}
	for _, raw := range []json.RawMessage{e.Before, e.After} {
		if raw != nil && (!json.Valid(raw) || !utf8.Valid(raw)) {
			return Invalid("before/after", "must be valid JSON in UTF-8")
		}
	}
	return nil
}

// AuditQuery selects a page of a shop's log in sequence order.
type AuditQuery struct {
	AfterSeq int64 // return events with Seq > AfterSeq
	Limit    int   // at most this many; 0 means 100; capped at 1000
}

// PageLimit is the number of events a List call returns at most: Limit,
// or 100 when Limit is not positive, capped at 1000.
func (q AuditQuery) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > 1000:
		return 1000
	}
	return q.Limit
}

// AuditRepo is the append-only audit log of the unit of work's shop. There
// is no update and no delete: stores refuse both at the database level.
type AuditRepo interface {
	// Append stores e in this shop's log, assigning ShopID, the next Seq,
	// PrevHash (the Hash of the shop's previous event, zero for the first
	// hashed one) and Hash (e.ChainHash() over the event as stored, Time
	// normalised by Timestamp), and returns the stored event. Appends from
	// concurrent units of work on one shop produce one gap-free sequence and
	// one valid chain. ErrInvalid for a malformed event, ErrConflict if e.ID
	// exists.
	Append(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// List returns a page of this shop's log in Seq order.
	List(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// Search returns a page of this shop's events matching f, in the order
	// f asks for; a short page is the last. ErrInvalid for a filter that
	// fails Validate.
	Search(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// Unhashed returns how many of this shop's first events come from
	// before the chain (see AuditHash): the size of the unhashed prefix,
	// fixed once when the store gained the chain and zero for every shop
	// whose log started after. Stores keep it where the application role
	// cannot change it; verification reports any unhashed event past it.
	Unhashed(ctx context.Context) (int64, error)
}
