package sqlstore

import (
	"context"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Search reads one page of the shop's log matching f. Each filter is one
// predicate served by an index of migration 00012 (actor and action with
// seq, so a filtered page is an index range scan in seq order; at for a
// time range). Action prefixes are compared as byte ranges (Dialect.Bytewise),
// which is how the action index is built. The statement's shape depends on
// which filters are set: a bounded number of texts.
func (r audit) Search(ctx context.Context, f ports.AuditFilter) ([]ports.AuditEvent, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where := []string{"shop_id = ?"}
	args := []any{r.t.shop}
	add := func(pred string, vs ...any) {
		where = append(where, pred)
		args = append(args, vs...)
	}
	action := r.t.d.Bytewise("action")
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if prefix, ok := f.ActionPrefix(); ok {
		add(action+" >= ? AND "+action+" < ?", prefix, prefixEnd(prefix))
	} else if f.Action != "" {
		add(action+" = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.OutsideAccess {
		where = append(where, OutsideAccessSQL(r.t.d))
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until)
	}
	order := "seq"
	if f.Newest {
		order = "seq DESC"
		if f.Cursor > 0 {
			add("seq < ?", f.Cursor)
		}
	} else {
		add("seq > ?", f.Cursor)
	}
	args = append(args, f.PageLimit())
	query := `SELECT ` + auditCols + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ?`
	out, err := r.query(ctx, make([]ports.AuditEvent, 0, min(f.PageLimit(), 128)), query, args...)
	if err != nil {
		return nil, r.t.wrap("search audit events", err)
	}
	return out, nil
}

// Outside accesses (ports.AuditFilter.OutsideAccess, the same predicate as
// audit.AccessKind): action prefixes, exact actions and actor prefixes.
var (
	outsideActionPrefixes = []string{"impersonation.", "retention."}
	outsideActions        = []string{"hq.access", "shop.exported", "shop.erased", "shop.deleted"}
	outsideActorPrefixes  = []string{"operator:", "system:"}
	outsideActors         = []string{"system"}
)

// OutsideAccessSQL returns the predicate of ports.AuditFilter.OutsideAccess
// in d's dialect, over audit_events' action, actor and impersonator.
// Prefixes are byte ranges [p, byteSuccessor(p)) of Dialect.Bytewise
// expressions rather than LIKE patterns, so no character of a prefix is a
// wildcard and the comparison is exact and case-sensitive in both
// dialects. The values are written into the text as literals (they are
// the constants above, none with a quote) so that the text is the same on
// every call: migration 00032's partial index audit_events_outside is
// declared WHERE exactly this text, and a database uses a partial index
// only for a query whose condition contains its predicate
// (TestOutsideAccessIndexMatches in each adapter pins the two together).
func OutsideAccessSQL(d Dialect) string {
	action, actor := d.Bytewise("action"), d.Bytewise("actor")
	lit := func(v string) string {
		if strings.ContainsAny(v, "'\\") {
			panic("sqlstore: an outside-access constant holds a quote: " + v)
		}
		return "'" + v + "'"
	}
	var ors []string
	for _, p := range outsideActionPrefixes {
		ors = append(ors, "("+action+" >= "+lit(p)+" AND "+action+" < "+lit(byteSuccessor(p))+")")
	}
	var in []string
	for _, a := range outsideActions {
		in = append(in, lit(a))
	}
	ors = append(ors, action+" IN ("+strings.Join(in, ", ")+")")
	for _, p := range outsideActorPrefixes {
		ors = append(ors, "("+actor+" >= "+lit(p)+" AND "+actor+" < "+lit(byteSuccessor(p))+")")
	}
	for _, a := range outsideActors {
		ors = append(ors, actor+" = "+lit(a))
	}
	ors = append(ors, "impersonator <> ''")
	return "(" + strings.Join(ors, " OR ") + ")"
}

// byteSuccessor is the least string greater than every string starting
// with prefix, for a prefix whose last byte is printable ASCII below '~'
// (as every prefix of OutsideAccessSQL is): the prefix with its last byte
// incremented.
func byteSuccessor(prefix string) string {
	return prefix[:len(prefix)-1] + string(rune(prefix[len(prefix)-1]+1))
}

// prefixEnd is the least string greater than every string starting with
// prefix, for a prefix ending in "." (as ports.AuditFilter.ActionPrefix
// returns): the same prefix ending in "/", the next byte.
func prefixEnd(prefix string) string { return prefix[:len(prefix)-1] + "/" }
