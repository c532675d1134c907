package porttest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// AuditBypass writes e as one row of shop's audit log directly, below the
// port: Seq, PrevHash and Hash exactly as given (a zero hash as SQL NULL),
// with the database rights the store's own connections hold (on
// PostgreSQL the application role bound to shop, on SQLite the database
// connection with the schema's triggers in place), as an SQL injection
// into the application could. It returns the database's answer.
type AuditBypass func(ctx context.Context, shop ports.ShopID, e ports.AuditEvent) error

// AuditBypassHarness returns a fresh, migrated, empty store and a bypass
// into its audit table.
type AuditBypassHarness func(t *testing.T) (ports.Store, AuditBypass)

// TestAuditRawAppends checks that the database, not only the adapter,
// keeps every shop's log one chain that the application can go on
// appending to (AUD-4): a row written below the port is refused unless it
// is the head's next event and links to the head's hash; a store may
// refuse every raw row. Whatever a raw write did, the shop's next Append
// succeeds and links to the head.
func TestAuditRawAppends(t *testing.T, h AuditBypassHarness) {
	random := func() ports.AuditHash {
		var x ports.AuditHash
		_, _ = rand.Read(x[:])
		return x
	}
	// Each case builds the raw row from the head (the shop's last event).
	tests := []struct {
		name string
		row  func(head ports.AuditEvent) ports.AuditEvent
		// mayLand: the row is the head's next event and links to it, so
		// a store may accept it as an append.
		mayLand bool
	}{
		{"unhashed row at the head's next seq", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 1)
			return e
		}, false},
		{"row at the next seq linked to nothing", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 1)
			e.Hash = e.ChainHash()
			return e
		}, false},
		{"row at the next seq with a forged link", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 1)
			e.PrevHash = random()
			e.Hash = e.ChainHash()
			return e
		}, false},
		{"linked row past the head", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 2)
			e.PrevHash = head.Hash
			e.Hash = e.ChainHash()
			return e
		}, false},
		{"linked row with a hash that does not cover it", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 1)
			e.PrevHash, e.Hash = head.Hash, random()
			return e
		}, true},
		{"well-formed next event", func(head ports.AuditEvent) ports.AuditEvent {
			e := rawEvent(head.Seq + 1)
			e.PrevHash = head.Hash
			e.Hash = e.ChainHash()
			return e
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, bypass := h(t)
			shop := seed(t, s, 1, 0).shops[0].ID
			var head ports.AuditEvent
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				for range 3 {
					var err error
					if head, err = tx.Audit().Append(ctx, event("before")); err != nil {
						return err
					}
				}
				return nil
			})
			raw := tt.row(head)
			raw.ShopID = shop
			err := bypass(context.Background(), shop, raw)
			if !tt.mayLand {
				require.Error(t, err, "the database refuses a row that does not continue the chain")
			}
			landed := err == nil
			var next ports.AuditEvent
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				next, err = tx.Audit().Append(ctx, event("after"))
				return err
			})
			log := auditLog(t, s, shop)
			want := int64(4) // three appends before, one after
			if landed {
				want = 5
				require.Greater(t, len(log), 3)
				assert.Equal(t, raw.ID, log[3].ID, "the raw row landed as the head's next event")
			}
			require.Len(t, log, int(want), "the log holds the appends, and the raw row only if it landed")
			assert.Equal(t, want, next.Seq, "the shop still appends, after the head")
			assert.Equal(t, log[want-2].Hash, next.PrevHash, "and links to the head")
			assert.Equal(t, next.ChainHash(), next.Hash)
			for i, e := range log {
				require.Equal(t, int64(i+1), e.Seq, "no gap, no repeat")
				if i > 0 {
					require.Equal(t, log[i-1].Hash, e.PrevHash, "event %d links to the one before", e.Seq)
				}
			}
			if !landed || raw.Hash == raw.ChainHash() {
				requireChain(t, log)
			}
		})
	}
}

func rawEvent(seq int64) ports.AuditEvent {
	return ports.AuditEvent{
		ID: ports.NewEventID(), Seq: seq, Time: ports.Timestamp(time.Now()), Actor: "user:intruder",
		Action: "member.role_changed", Target: "user:intruder", Outcome: ports.OutcomeSuccess,
	}
}
