package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// PastRetention lists up to limit shops whose subscription ended at least
// Config.Retention ago, longest-cancelled first (LIFE-2: their data may be
// deleted; the deletion itself is the lifecycle's). It reads across
// shops, so it is for in-process maintenance only: the caller's scope must
// be a system scope (the CLI, a job); anything else is ErrForbidden, and
// no scope ErrUnauthenticated.
func (s *Service) PastRetention(ctx context.Context, limit int) ([]ports.ShopCancellation, error) {
	sc, ok := access.From(ctx)
	switch {
	case !ok:
		return nil, fmt.Errorf("shops past retention: no caller scope: %w", ports.ErrUnauthenticated)
	case sc.System == "":
		return nil, fmt.Errorf("shops past retention: a maintenance query across shops: %w", ports.ErrForbidden)
	}
	cutoff := s.clock.Now().Add(-s.cfg.Retention)
	var out []ports.ShopCancellation
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.BillingDirectory().CancelledBefore(ctx, cutoff, limit)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("shops past retention: %w", err)
	}
	return out, nil
}

// RetentionEnds returns when a shop cancelled at cancelledAt passes
// retention.
func (s *Service) RetentionEnds(cancelledAt time.Time) time.Time {
	return cancelledAt.Add(s.cfg.Retention)
}
