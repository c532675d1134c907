package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Search reads one page of the shop's log matching f. Each filter is one
// predicate served by an index of migration 00012 (actor and action with
// seq, so a filtered page is an index range scan in seq order; at for a
// time range). Action prefixes are compared as byte ranges under the "C"
// collation, which is what the action index is built with.
func (r audit) Search(ctx context.Context, f ports.AuditFilter) ([]ports.AuditEvent, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var where []string
	args := []any{r.t.shop}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where = append(where, "shop_id = $1")
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if prefix, ok := f.ActionPrefix(); ok {
		where = append(where, `action COLLATE "C" >= `+arg(prefix)+` AND action COLLATE "C" < `+arg(prefixEnd(prefix)))
	} else if f.Action != "" {
		where = append(where, `action COLLATE "C" = `+arg(f.Action))
	}
	if f.Target != "" {
		where = append(where, "target = "+arg(f.Target))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(ports.Timestamp(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(ports.Timestamp(f.Until)))
	}
	order := "seq"
	if f.Newest {
		order = "seq DESC"
		if f.Cursor > 0 {
			where = append(where, "seq < "+arg(f.Cursor))
		}
	} else {
		where = append(where, "seq > "+arg(f.Cursor))
	}
	query := `SELECT ` + auditCols + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + arg(f.PageLimit())
	out, err := r.query(ctx, make([]ports.AuditEvent, 0, min(f.PageLimit(), 128)), query, args...)
	if err != nil {
		return nil, wrap("search audit events", err)
	}
	return out, nil
}

// prefixEnd is the least string greater than every string starting with
// prefix, for a prefix ending in "." (as ports.AuditFilter.ActionPrefix
// returns): the same prefix ending in "/", the next byte.
func prefixEnd(prefix string) string { return prefix[:len(prefix)-1] + "/" }
