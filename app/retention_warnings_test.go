package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// setSubscription applies a subscription state to shop (cancelling or
// reactivating it) as of at.
func setSubscription(t *testing.T, st ports.Store, shop ports.ShopID, customer, sub string, status ports.SubscriptionStatus, at time.Time) {
	t.Helper()
	require.NoError(t, st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Billing().LinkCustomer(ctx, customer); err != nil && !strings.Contains(err.Error(), "conflict") {
			return err
		}
		s := ports.SubscriptionState{ID: sub, CustomerID: customer, Status: status, AsOf: at}
		if status.Ended() {
			s.EndedAt = at
		}
		_, err := tx.Billing().ApplySubscription(ctx, s)
		return err
	}))
}

// warnedEvents counts shop's "retention.warned" audit events.
func warnedEvents(t *testing.T, st ports.Store, shop ports.ShopID) int {
	t.Helper()
	n := 0
	require.NoError(t, st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			if e.Action == "retention.warned" {
				n++
				assert.Equal(t, housekeeping.WarningActor, e.Actor)
			}
		}
		return err
	}, ports.ReadOnly()))
	return n
}

// TestRetentionWarningsReachOwnersOnce is LIFE-2's warnings with a
// controllable clock and the in-process SMTP server, on both stores: 31
// days before the deletion nothing is sent; 30 days before, each Owner of
// the cancelled shop (not its Admin, not the active shop's Owner) gets one
// mail naming the deletion date and how to export, and each is audited; a
// rerun, and a pass a day later, send nothing more; after a reactivation
// the 7-day point sends nothing; a later cancellation starts afresh.
func TestRetentionWarningsReachOwnersOnce(t *testing.T) {
	for _, be := range retentionStores {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			srv := smtptest.Start(t, smtptest.Options{TLS: true})
			cfg, err := app.LoadConfig([]string{"STOCKADE_HTTP_PUBLIC_URL=https://stockade.test"}, "")
			require.NoError(t, err)
			cfg.Auth.SessionKeys = "k1:" + strings.Repeat("s", 43)
			outbox, err := app.NewAuthMailOutbox(cfg)
			require.NoError(t, err)
			clock := &movableClock{}
			warner, err := app.NewWarner(cfg, app.WarnerParts{Store: st, Outbox: outbox, Clock: clock})
			require.NoError(t, err)
			worker, err := authmail.NewWorker(authmail.WorkerDeps{Outbox: outbox, Queue: st.(ports.AuthMailOutbox),
				Sender: smtpSender(t, srv), From: "no-reply@stockade.test"}, authmail.WorkerConfig{})
			require.NoError(t, err)
			deliver := func() {
				t.Helper()
				for {
					n, err := worker.RunOnce(ctx)
					require.NoError(t, err)
					if n == 0 {
						return
					}
				}
			}
			pass := func(at time.Time) housekeeping.WarningReport {
				t.Helper()
				clock.Set(at)
				rep, err := warner.RunWarnings(ctx)
				require.NoError(t, err)
				deliver()
				return rep
			}

			a := stockadetest.NewShop(t, st)
			owner2 := stockadetest.AddMember(t, st, a.ID, ports.RoleOwner)
			stockadetest.AddMember(t, st, a.ID, ports.RoleAdmin)
			b := stockadetest.NewShop(t, st)
			cancelled := time.Now().UTC().Truncate(time.Second)
			setSubscription(t, st, a.ID, "cus_warnA", "sub_warnA1", ports.SubscriptionCanceled, cancelled)
			setSubscription(t, st, b.ID, "cus_warnB", "sub_warnB1", ports.SubscriptionActive, cancelled)
			deletion := cancelled.Add(60 * 24 * time.Hour)

			assert.Zero(t, pass(cancelled.Add(29*24*time.Hour)).Mails, "day 29 after the cancellation")
			assert.Zero(t, pass(deletion.Add(-30*24*time.Hour-time.Second)).Mails, "a second before the 30-day point")
			assert.Empty(t, srv.Messages())
			assert.Zero(t, warnedEvents(t, st, a.ID))

			rep := pass(deletion.Add(-30 * 24 * time.Hour))
			assert.Equal(t, housekeeping.WarningReport{Warned: 1, Mails: 2}, rep, "30 days before: one mail per Owner")
			msgs := srv.Messages()
			require.Equal(t, 2, len(msgs))
			var to []string
			for _, m := range msgs {
				to = append(to, m.To...)
				p, err := m.Parse()
				require.NoError(t, err)
				assert.Contains(t, p.Subject, deletion.Format("2 January 2006"), "the subject names the deletion date")
				assert.Contains(t, p.Text, deletion.Format("2 January 2006"), "the body names the deletion date")
				assert.Contains(t, p.Text, "export", "the body says how to export")
				assert.Contains(t, p.Text, "https://"+a.Slug+".stockade.test/", "the body names the shop's address")
			}
			assert.ElementsMatch(t, []string{"user-" + a.Owner.String() + "@example.com", "user-" + owner2.String() + "@example.com"}, to,
				"the Owners, not the Admin, not the active shop's Owner")
			assert.Equal(t, 2, warnedEvents(t, st, a.ID), "every warning audited")
			assert.Zero(t, warnedEvents(t, st, b.ID))

			assert.Zero(t, pass(deletion.Add(-30*24*time.Hour)).Mails, "a rerun sends nothing")
			assert.Zero(t, pass(deletion.Add(-29*24*time.Hour)).Mails, "nor a pass a day later")
			assert.Equal(t, 2, len(srv.Messages()))

			// Reactivated: the 7-day point sends nothing.
			setSubscription(t, st, a.ID, "cus_warnA", "sub_warnA2", ports.SubscriptionActive, deletion.Add(-20*24*time.Hour))
			assert.Zero(t, pass(deletion.Add(-7*24*time.Hour)).Mails, "reactivated: no warning")
			assert.Zero(t, pass(deletion.Add(-1*24*time.Hour)).Mails, "reactivated: no warning")
			assert.Equal(t, 2, len(srv.Messages()))

			// Cancelled again: a fresh clock, a fresh 30-day warning.
			again := deletion.Add(-24 * time.Hour).Truncate(time.Second)
			setSubscription(t, st, a.ID, "cus_warnA", "sub_warnA2", ports.SubscriptionCanceled, again)
			assert.Zero(t, pass(again.Add(29*24*time.Hour)).Mails)
			assert.Equal(t, 2, pass(again.Add(30*24*time.Hour)).Mails, "a later cancellation starts afresh")
			assert.Equal(t, 4, len(srv.Messages()))
			assert.Equal(t, 4, warnedEvents(t, st, a.ID))
		})
	}
}

// TestRetentionWarningAndExportSettings: the warning points parse (default
// 30, 7, 1; "none"; any order) and refuse what is not a list of distinct
// days; the export link lifetime is 1m to 7 days.
func TestRetentionWarningAndExportSettings(t *testing.T) {
	for _, c := range []struct {
		give string
		want []int
	}{{"", []int{30, 7, 1}}, {"none", []int{}}, {"1, 14,3", []int{14, 3, 1}}} {
		days, err := app.HousekeepingConfig{RetentionWarnings: c.give}.WarningDays()
		require.NoError(t, err, c.give)
		assert.Equal(t, c.want, days, c.give)
	}
	for _, give := range []string{"0", "7,7", "abc", "30,", "-1", "4000"} {
		cfg, err := app.LoadConfig([]string{"STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS=" + give}, "")
		require.NoError(t, err)
		err = cfg.Validate()
		require.Error(t, err, give)
		assert.Contains(t, err.Error(), "STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS", give)
	}
	for give, ok := range map[string]bool{"30s": false, "1m": true, "24h": true, "168h": true, "169h": false} {
		cfg, err := app.LoadConfig([]string{"STOCKADE_LINKS_EXPORT_TTL=" + give}, "")
		require.NoError(t, err)
		err = cfg.Validate()
		if ok {
			assert.NoError(t, err, give)
		} else {
			require.Error(t, err, give)
			assert.Contains(t, err.Error(), "STOCKADE_LINKS_EXPORT_TTL", give)
		}
	}
}
