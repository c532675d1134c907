package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// pageStore answers every Search with page and records the filters asked.
type pageStore struct {
	ports.Store // nil: only InShop is used
	page        []ports.AuditEvent
	asked       []ports.AuditFilter
}

type pageTx struct {
	ports.ShopTx // nil: only Audit is used
	s            *pageStore
}

type pageRepo struct {
	ports.AuditRepo // nil: only Search is used
	s               *pageStore
}

func (s *pageStore) InShop(ctx context.Context, _ ports.ShopID, fn func(context.Context, ports.ShopTx) error, _ ...ports.TxOption) error {
	return fn(ctx, pageTx{s: s})
}
func (t pageTx) Audit() ports.AuditRepo { return pageRepo{s: t.s} }
func (r pageRepo) Search(_ context.Context, f ports.AuditFilter) ([]ports.AuditEvent, error) {
	r.s.asked = append(r.s.asked, f)
	return r.s.page, nil
}

// TestAccessReviewAsksTheStoreAndSkipsMembersEvents: the review asks the
// store for outside accesses only (OutsideAccess with the period), and an
// event the store returns that AccessKind rejects is skipped, not listed.
func TestAccessReviewAsksTheStoreAndSkipsMembersEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ev := func(seq int64, actor, action string) ports.AuditEvent {
		return ports.AuditEvent{Seq: seq, ID: ports.NewEventID(), Time: t0, Actor: actor, Action: action, Outcome: ports.OutcomeSuccess}
	}
	st := &pageStore{page: []ports.AuditEvent{
		ev(1, "operator:op", "impersonation.start"),
		ev(2, "user:ann", "shop.renamed"), // a member's own: a store bug, not listed
		ev(3, "user:bob", "hq.access"),
	}}
	shop := ports.NewShopID()
	ctx := access.With(context.Background(), access.Scope{Shop: shop, Org: ports.NewOrgID(), User: ports.NewUserID(), Role: ports.RoleOwner})
	var got []int64
	n, err := audit.NewReader(audit.ReaderDeps{Store: st}).AccessReview(ctx, t0, t0.Add(time.Hour), func(a audit.AccessEntry) error {
		got = append(got, a.Seq)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []int64{1, 3}, got)
	require.Len(t, st.asked, 1, "a short page ends the review")
	require.Equal(t, ports.AuditFilter{Since: t0, Until: t0.Add(time.Hour), OutsideAccess: true, Limit: 1000}, st.asked[0])
}
