package app_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkHousekeepingPass measures the steady-state pass the server runs
// every hour: 50 shops with nothing expired and chain heads (one event
// each) already signed: without checkpoints, with a recent checkpoint (the usual pass),
// and with a checkpoint due (the chain is checked; its head has not
// moved). shops/s is the figure.
func BenchmarkHousekeepingPass(b *testing.B) {
	const shops = 50
	for _, be := range jobBackends {
		b.Run("store="+be.name, func(b *testing.B) {
			st, _ := be.open(b)
			for _, tn := range seedTenants(b, st, shops) {
				require.NoError(b, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:bench",
						Action: "settings.changed", Target: "shop:" + tn.shop.String(), Outcome: ports.OutcomeSuccess})
					return err
				}))
			}
			skey, vkey, err := note.GenerateKey(rand.Reader, "stockade-audit")
			require.NoError(b, err)
			signer, err := note.NewSigner(skey)
			require.NoError(b, err)
			verifier, err := note.NewVerifier(vkey)
			require.NoError(b, err)
			for _, cp := range []string{"off", "recent", "due"} {
				b.Run("checkpoints="+cp, func(b *testing.B) {
					cfg := housekeeping.Config{}
					if cp != "off" {
						cfg.Signer, cfg.Verifiers = signer, note.VerifierList(verifier)
					}
					if cp == "due" {
						cfg.CheckpointEvery = time.Nanosecond // check the chain on every pass
					}
					sw, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: st.(ports.AuditShopLister)}, cfg)
					require.NoError(b, err)
					_, err = sw.Sweep(context.Background()) // the first pass signs every head
					require.NoError(b, err)
					b.ResetTimer()
					for b.Loop() {
						rep, err := sw.Sweep(context.Background())
						if err != nil || rep.Shops != shops {
							b.Fatal(rep, err)
						}
					}
					b.ReportMetric(float64(shops*b.N)/b.Elapsed().Seconds(), "shops/s")
				})
			}
		})
	}
}
