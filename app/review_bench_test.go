package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// BenchmarkAccessReview measures one access review of 90 days (as the
// page and the CLI run it) over a shop whose log holds 4 000 or 50 000
// events in that period, one in 50 (2 %) an access from outside the
// membership (an impersonation, HQ access, an event under impersonation,
// the platform's housekeeping), the rest members' own.
func BenchmarkAccessReview(b *testing.B) {
	for _, events := range []int{4_000, 50_000} {
		for name, open := range exStores() {
			b.Run(fmt.Sprintf("%s/events=%d", name, events), func(b *testing.B) {
				st := open(b)
				sh := stockadetest.NewShop(b, st)
				now := time.Now()
				start := now.Add(-89 * 24 * time.Hour)
				step := 89 * 24 * time.Hour / time.Duration(events)
				outside := 0
				for done := 0; done < events; {
					require.NoError(b, st.InShop(context.Background(), sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
						for range min(1000, events-done) {
							e := benchEvent(int64(done))
							e.Time = start.Add(time.Duration(done) * step)
							if done%50 == 49 {
								switch outside % 4 {
								case 0:
									e.Actor, e.Action, e.After = "operator:op1", "impersonation.start", []byte(`{"reason":"ticket"}`)
								case 1:
									e.Action, e.After = "hq.access", []byte(`{"what":"GET /files"}`)
								case 2:
									e.Impersonator = "operator:op1"
								case 3:
									e.Actor, e.Action = "system:housekeeping", "session.expired"
								}
								outside++
							}
							done++
							if _, err := tx.Audit().Append(ctx, e); err != nil {
								return err
							}
						}
						return nil
					}))
				}
				r := audit.NewReader(audit.ReaderDeps{Store: st})
				ctx := access.With(context.Background(), access.Scope{Shop: sh.ID, Org: sh.Org, User: sh.Owner, Role: ports.RoleOwner})
				since := now.Add(-90 * 24 * time.Hour)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					n, err := r.AccessReview(ctx, since, time.Time{}, func(audit.AccessEntry) error { return nil })
					require.NoError(b, err)
					require.Equal(b, outside, n)
				}
			})
		}
	}
}
