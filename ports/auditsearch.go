package ports

import (
	"strings"
	"time"
)

// AuditFilter selects events of a shop's log for people reading it (AUD-6):
// every set field must match, pages are keyset-paginated by Seq.
type AuditFilter struct {
	Actor  string    // exact, e.g. "user:<id>"; empty matches any
	Action string    // exact ("membership.role_changed"), or a prefix ending in ".*" ("membership.*"); empty matches any
	Target string    // exact; empty matches any
	Since  time.Time // events with Time >= Since; zero means no lower bound
	Until  time.Time // events with Time < Until; zero means no upper bound
	// OutsideAccess keeps only the events the access review lists (LIFE-4):
	// accesses to the shop from outside its membership. An event matches
	// when any of these holds, comparing bytes exactly (case-sensitive, no
	// wildcards):
	//   - its Action starts with "impersonation." or its Impersonator is non-empty;
	//   - its Action is "hq.access", "shop.exported", "shop.erased" or "shop.deleted";
	//   - its Action starts with "retention.";
	//   - its Actor starts with "operator:" or "system:", or is "system".
	// This must agree exactly with audit.AccessKind (an event matches if and
	// only if AccessKind returns a non-empty kind); the conformance suite
	// (porttest.TestAuditSearch) pins the set, and changing one without the
	// other is a bug. It combines with every other field by AND.
	OutsideAccess bool
	// Newest lists in descending Seq order (the reading view); otherwise
	// ascending (the export order).
	Newest bool
	// Cursor is the Seq of the last event of the previous page: the next
	// page starts after it in the chosen order. Zero starts at the
	// beginning (ascending) or the end (descending).
	Cursor int64
	Limit  int // at most this many; 0 means 100; capped at 1000
}

// PageLimit is the number of events a Search call returns at most, as for
// AuditQuery.
func (f AuditFilter) PageLimit() int { return AuditQuery{Limit: f.Limit}.PageLimit() }

// ActionPrefix reports whether Action is a prefix pattern ("membership.*") and
// returns the prefix with its dot ("member.").
func (f AuditFilter) ActionPrefix() (string, bool) {
	if p, ok := strings.CutSuffix(f.Action, "*"); ok && strings.HasSuffix(p, ".") {
		return p, true
	}
	return "", false
}

// Validate checks a filter: bounded strings, a well-formed action pattern,
// Since before Until, a non-negative cursor.
func (f AuditFilter) Validate() error {
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target} {
		if len(v) > 200 {
			return Invalid(name, "must be at most 200 bytes")
		}
	}
	if strings.Contains(f.Action, "*") {
		if _, ok := f.ActionPrefix(); !ok || strings.Count(f.Action, "*") != 1 {
			return Invalid("action", `a pattern must be a prefix ending in ".*", e.g. "membership.*"`)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Invalid("since", "must be before until")
	}
	if f.Cursor < 0 {
		return Invalid("cursor", "must not be negative")
	}
	return nil
}
