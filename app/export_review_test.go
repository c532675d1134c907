package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

// TestAccessReview: per shop and time range, every access from outside
// the membership — an impersonation with its reason, HQ access, an
// export — each pointing at its audit event; members' own events are not
// listed, another shop's never.
func TestAccessReview(t *testing.T) {
	for name, open := range exStores() {
		t.Run(name, func(t *testing.T) {
			w := newExWorld(t, open)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
			op := "operator:" + ports.NewUserID().String()
			appendAt := func(shop ports.ShopID, at time.Time, e ports.AuditEvent) ports.AuditEvent {
				e.Time = at
				var got ports.AuditEvent
				require.NoError(t, w.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
					var err error
					got, err = tx.Audit().Append(ctx, e)
					return err
				}))
				return got
			}
			member := "user:" + w.a.Owner.String()
			own := appendAt(w.a.ID, t0, ports.AuditEvent{ID: ports.NewEventID(), Actor: member, Action: "shop.renamed", Target: "shop:" + w.a.ID.String(), Outcome: ports.OutcomeSuccess})
			imp := appendAt(w.a.ID, t0.Add(time.Hour), ports.AuditEvent{ID: ports.NewEventID(), Actor: op, Action: "impersonation.start", Target: member,
				Outcome: ports.OutcomeAttempted, After: []byte(`{"reason":"ticket 7: cannot upload"}`)})
			under := appendAt(w.a.ID, t0.Add(2*time.Hour), ports.AuditEvent{ID: ports.NewEventID(), Actor: member, Impersonator: op, Action: "file.deleted",
				Target: "file:x", Outcome: ports.OutcomeSuccess})
			hq := appendAt(w.a.ID, t0.Add(3*time.Hour), ports.AuditEvent{ID: ports.NewEventID(), Actor: "user:" + ports.NewUserID().String(), Action: "hq.access",
				Target: "shop:" + w.a.ID.String(), Outcome: ports.OutcomeAttempted, After: []byte(`{"from_shop":"x","what":"GET /files"}`)})
			late := appendAt(w.a.ID, t0.Add(48*time.Hour), ports.AuditEvent{ID: ports.NewEventID(), Actor: op, Action: "impersonation.start", Target: member,
				Outcome: ports.OutcomeAttempted, After: []byte(`{"reason":"later"}`)})
			appendAt(w.b.ID, t0.Add(time.Hour), ports.AuditEvent{ID: ports.NewEventID(), Actor: op, Action: "impersonation.start", Target: "user:b",
				Outcome: ports.OutcomeAttempted, After: []byte(`{"reason":"B's ticket"}`)})
			_ = own

			r := audit.NewReader(audit.ReaderDeps{Store: w.store})
			var got []audit.AccessEntry
			n, err := r.AccessReview(w.as(w.a, w.a.Owner, ports.RoleOwner), t0, t0.Add(24*time.Hour), func(a audit.AccessEntry) error {
				got = append(got, a)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, len(got), n)
			require.Len(t, got, 3, "%+v", got)
			for i, want := range []struct {
				e            ports.AuditEvent
				kind, reason string
			}{{imp, audit.AccessImpersonation, "ticket 7: cannot upload"}, {under, audit.AccessImpersonation, ""}, {hq, audit.AccessHQ, "GET /files"}} {
				require.Equal(t, want.e.Seq, got[i].Seq)
				require.Equal(t, want.e.ID.String(), got[i].EventID)
				require.Equal(t, want.e.Hash.String(), got[i].Hash, "the entry names its event's chain hash")
				require.Equal(t, want.kind, got[i].Kind)
				require.Equal(t, want.reason, got[i].Reason)
			}

			// The export is listed too, with the operator's reason; the whole
			// range sees the late impersonation; B's is never there.
			_, err = w.exporter(t).Export(exSysCtx(w), &bytes.Buffer{}, export.Options{Reason: "legal hold 3"})
			require.NoError(t, err)
			var all bytes.Buffer
			aw, err := audit.NewAccessWriter(audit.FormatCSV, &all)
			require.NoError(t, err)
			_, err = r.AccessReview(w.as(w.a, w.a.Owner, ports.RoleOwner), time.Time{}, time.Time{}, aw.Write)
			require.NoError(t, err)
			require.NoError(t, aw.Close())
			text := all.String()
			recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			require.NoError(t, err)
			require.Contains(t, text, late.ID.String())
			require.Contains(t, text, "legal hold 3")
			require.NotContains(t, text, "B's ticket")
			require.NotContains(t, text, own.ID.String(), "a member's own event is not an outside access")
			require.Equal(t, "seq", recs[0][0])
			kinds := map[string]int{}
			for _, rec := range recs[1:] {
				kinds[rec[4]]++
			}
			require.Equal(t, 2, kinds[audit.AccessExport], "attempt and outcome: %v", kinds)

			admin := w.as(w.a, ports.NewUserID(), ports.RoleAdmin)
			_, err = r.AccessReview(admin, time.Time{}, time.Time{}, func(audit.AccessEntry) error { return nil })
			require.NoError(t, err, "admins review access too")
			_, err = r.AccessReview(w.as(w.a, ports.NewUserID(), ports.RoleTech), time.Time{}, time.Time{}, func(audit.AccessEntry) error { return nil })
			require.True(t, errors.Is(err, ports.ErrForbidden), "tech: %v", err)
			require.False(t, strings.Contains(text, w.b.ID.String()))
		})
	}
}
