package sqlite

import (
	"context"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Search reads one page of the shop's log matching f, each filter served
// by an index of migration 00012. Action prefixes are byte ranges (SQLite
// compares text with BINARY).
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
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if prefix, ok := f.ActionPrefix(); ok {
		add("action >= ? AND action < ?", prefix, prefix[:len(prefix)-1]+"/")
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
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
	rows, err := r.t.q.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, wrap("search audit events", err)
	}
	defer rows.Close()
	var out []ports.AuditEvent
	for rows.Next() {
		var row auditRow
		err := rows.Scan(&row.ShopID, &row.Seq, &row.ID, &row.At, &row.Actor, &row.Impersonator, &row.Action, &row.Target,
			&row.Outcome, &row.Before, &row.After, &row.IP, &row.UserAgent, &row.RequestID, &row.PrevHash, &row.Hash)
		if err != nil {
			return nil, wrap("search audit events", err)
		}
		e, err := row.port()
		if err != nil {
			return nil, wrap("search audit events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("search audit events", err)
	}
	return out, nil
}
