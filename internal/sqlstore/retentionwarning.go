package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// RetentionWarnings implements ports.ShopTx.
func (t *Shop) RetentionWarnings() ports.RetentionWarningRepo { return retentionWarnings{t} }

// retentionWarnings are the warning records of one Shop's shop. Every
// statement binds t.shop; none accepts a shop from the caller.
type retentionWarnings struct{ t *Shop }

var _ ports.RetentionWarningRepo = retentionWarnings{}

type retentionWarningRow struct {
	CancelledAt Time `db:"cancelled_at"`
	DaysBefore  int  `db:"days_before"`
	DeletionAt  Time `db:"deletion_at"`
	Recipients  int  `db:"recipients"`
	SentAt      Time `db:"sent_at"`
}

const retentionWarningCols = `cancelled_at, days_before, deletion_at, recipients, sent_at`

func (r retentionWarningRow) port() ports.RetentionWarning {
	return ports.RetentionWarning{CancelledAt: r.CancelledAt.Time, DaysBefore: r.DaysBefore, DeletionAt: r.DeletionAt.Time,
		Recipients: r.Recipients, SentAt: r.SentAt.Time}
}

func (r retentionWarnings) Record(ctx context.Context, w ports.RetentionWarning) (ports.RetentionWarning, error) {
	if err := w.Validate(); err != nil {
		return ports.RetentionWarning{}, err
	}
	var row retentionWarningRow
	err := r.t.get(ctx, &row, `INSERT INTO retention_warnings (shop_id, `+retentionWarningCols+`) VALUES (?, ?, ?, ?, ?, ?)
		RETURNING `+retentionWarningCols,
		r.t.shop, ports.Timestamp(w.CancelledAt), w.DaysBefore, ports.Timestamp(w.DeletionAt), w.Recipients, r.t.now())
	if err != nil {
		return ports.RetentionWarning{}, r.t.wrap("record retention warning", err)
	}
	return row.port(), nil
}

func (r retentionWarnings) List(ctx context.Context, cancelledAt time.Time) ([]ports.RetentionWarning, error) {
	var rows []retentionWarningRow
	err := r.t.sel(ctx, &rows, `SELECT `+retentionWarningCols+` FROM retention_warnings
		WHERE shop_id = ? AND cancelled_at = ? ORDER BY days_before DESC`, r.t.shop, ports.Timestamp(cancelledAt))
	if err != nil {
		return nil, r.t.wrap("list retention warnings", err)
	}
	out := make([]ports.RetentionWarning, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
