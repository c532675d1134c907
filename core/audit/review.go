package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Access kinds: how an access reached the shop from outside its
// membership (AccessEntry.Kind).
const (
	AccessImpersonation = "impersonation" // an operator acting as a member, or the impersonation's own events
	AccessHQ            = "hq"            // an org owner or admin entering the shop from HQ
	AccessExport        = "export"        // the whole shop exported (shop.exported)
	AccessErasure       = "erasure"       // the shop's data erased or deleted (shop.erased, shop.deleted, retention.*)
	AccessOperator      = "operator"      // any other event whose actor is an operator
	AccessSystem        = "system"        // the platform acting: housekeeping, the CLI
)

// AccessEntry is one access to a shop from outside its own membership, as
// the access review lists it (LIFE-4). Seq, EventID and Hash name the
// audit event it comes from, which the chain proves.
type AccessEntry struct {
	Seq          int64         `json:"seq"`
	EventID      string        `json:"event_id"`
	Hash         string        `json:"hash,omitempty"`
	Time         time.Time     `json:"time"`
	Kind         string        `json:"kind"`
	Actor        string        `json:"actor"`
	Impersonator string        `json:"impersonator,omitempty"`
	Action       string        `json:"action"`
	Target       string        `json:"target,omitempty"`
	Outcome      ports.Outcome `json:"outcome"`
	// Reason is the reason the event states (an impersonation's, an
	// operator's export) or, for HQ access, what was accessed.
	Reason string `json:"reason,omitempty"`
}

// AccessKind classifies e for the access review: the kind of outside
// access it records, or "" for a member's own doing. An event is an
// outside access when it is an impersonation's (its action is
// impersonation.*, or it has an Impersonator), HQ access (hq.access), an
// export of the whole shop, an erasure or deletion, or its actor is an
// operator ("operator:…") or the platform ("system:…"). Events done under
// HQ access are recorded by the members' own actions, each after the
// hq.access event that opened them.
func AccessKind(e ports.AuditEvent) string {
	switch {
	case strings.HasPrefix(e.Action, "impersonation.") || e.Impersonator != "":
		return AccessImpersonation
	case e.Action == "hq.access":
		return AccessHQ
	case e.Action == "shop.exported":
		return AccessExport
	case e.Action == "shop.erased" || e.Action == "shop.deleted" || strings.HasPrefix(e.Action, "retention."):
		return AccessErasure
	case strings.HasPrefix(e.Actor, "operator:"):
		return AccessOperator
	case strings.HasPrefix(e.Actor, "system:") || e.Actor == "system":
		return AccessSystem
	}
	return ""
}

// AccessEntryOf returns e as an access review entry, or false when e is
// a member's own doing (see AccessKind).
func AccessEntryOf(e ports.AuditEvent) (AccessEntry, bool) {
	kind := AccessKind(e)
	if kind == "" {
		return AccessEntry{}, false
	}
	a := AccessEntry{Seq: e.Seq, EventID: e.ID.String(), Time: e.Time.UTC(), Kind: kind, Actor: e.Actor,
		Impersonator: e.Impersonator, Action: e.Action, Target: e.Target, Outcome: e.Outcome}
	if !e.Hash.IsZero() {
		a.Hash = e.Hash.String()
	}
	var detail struct {
		Reason string `json:"reason"`
		What   string `json:"what"`
	}
	if len(e.After) > 0 && json.Unmarshal(e.After, &detail) == nil {
		a.Reason = detail.Reason
		if a.Reason == "" && kind == AccessHQ {
			a.Reason = detail.What
		}
	}
	return a, true
}

// AccessReview calls fn with every access to the caller's shop from
// outside its membership (AccessEntryOf) whose event time is in [since,
// until) — a zero bound is open — oldest first, and returns how many. The
// store selects the events (ports.AuditFilter.OutsideAccess, the same
// predicate as AccessKind), so the cost follows what is listed, not the
// size of the log; an event the store returns that AccessKind rejects is
// skipped, not listed. It reads in pages, each in its own read-only unit
// of work, so memory does not grow with the log. ErrForbidden without
// access.AuditRead (Owner, Admin); ErrInvalid when since is not before
// until. An error from fn stops the review and is returned.
func (r *Reader) AccessReview(ctx context.Context, since, until time.Time, fn func(AccessEntry) error) (int, error) {
	sc, err := r.policy.Require(ctx, access.AuditRead)
	if err != nil {
		return 0, err
	}
	f := ports.AuditFilter{Since: since, Until: until, OutsideAccess: true, Limit: 1000}
	if err := f.Validate(); err != nil {
		return 0, err
	}
	n := 0
	for {
		var page []ports.AuditEvent
		err := r.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Audit().Search(ctx, f)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return n, fmt.Errorf("access review: read: %w", err)
		}
		for _, e := range page {
			if a, ok := AccessEntryOf(e); ok {
				if err := fn(a); err != nil {
					return n, err
				}
				n++
			}
		}
		if len(page) < f.PageLimit() {
			return n, nil
		}
		f.Cursor = page[len(page)-1].Seq
	}
}

// AccessWriter writes access review entries in one format; Close flushes
// (and for an empty CSV writes the header).
type AccessWriter interface {
	Write(a AccessEntry) error
	Close() error
}

// NewAccessWriter returns the writer for format: FormatJSONLines (one
// AccessEntry per line) or FormatCSV (a header, then one row per entry,
// formula-like cells prefixed with a quote); ErrInvalid for another.
func NewAccessWriter(format string, w io.Writer) (AccessWriter, error) {
	switch format {
	case FormatJSONLines:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return accessJSON{enc}, nil
	case FormatCSV:
		return &accessCSV{w: csv.NewWriter(w)}, nil
	}
	return nil, ports.Invalid("format", `must be "jsonl" or "csv"`)
}

type accessJSON struct{ enc *json.Encoder }

func (j accessJSON) Write(a AccessEntry) error { return j.enc.Encode(a) }
func (j accessJSON) Close() error              { return nil }

// AccessColumns are the access review's CSV header, in order.
var accessColumns = []string{"seq", "event_id", "hash", "time", "kind", "actor", "impersonator", "action", "target", "outcome", "reason"}

type accessCSV struct {
	w      *csv.Writer
	header bool
}

func (c *accessCSV) Write(a AccessEntry) error {
	if !c.header {
		if err := c.w.Write(accessColumns); err != nil {
			return err
		}
		c.header = true
	}
	row := []string{strconv.FormatInt(a.Seq, 10), a.EventID, a.Hash, a.Time.Format(time.RFC3339Nano), a.Kind, a.Actor,
		a.Impersonator, a.Action, a.Target, string(a.Outcome), a.Reason}
	for i, cell := range row {
		row[i] = neutralise(cell)
	}
	return c.w.Write(row)
}

func (c *accessCSV) Close() error {
	if !c.header {
		if err := c.w.Write(accessColumns); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}
