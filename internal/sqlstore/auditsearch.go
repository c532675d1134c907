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

// prefixEnd is the least string greater than every string starting with
// prefix, for a prefix ending in "." (as ports.AuditFilter.ActionPrefix
// returns): the same prefix ending in "/", the next byte.
func prefixEnd(prefix string) string { return prefix[:len(prefix)-1] + "/" }
