package porttest

import (
	"context"
	"crypto/rand"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// CheckpointBypass writes c as one row of shop's audit_checkpoints
// directly, below the port: N, Size, Hash and Note exactly as given, with
// the database rights the store's own connections hold (on PostgreSQL the
// application role bound to shop, on SQLite the database connection with
// the schema's triggers in place), as an SQL injection into the
// application could. It returns the database's answer.
type CheckpointBypass func(ctx context.Context, shop ports.ShopID, c ports.AuditCheckpoint) error

// CheckpointBypassHarness returns a fresh, migrated, empty store and a
// bypass into its checkpoint table.
type CheckpointBypassHarness func(t *testing.T) (ports.Store, CheckpointBypass)

// TestAuditRawCheckpoints checks that the database, not only the adapter,
// keeps every stored checkpoint a statement of the shop's log (AUD-4):
// checkpoints never change once written, so one junk row would stop the
// shop's chain from being signed again (the freeze of issue 16, item 4,
// for checkpoints). A row written below the port is refused unless it is
// numbered after the shop's last checkpoint, states the hash of the log's
// event at its size and is no smaller than an earlier checkpoint; a store
// may refuse every raw row. Whatever a raw write did, the store's own Add
// of the head still succeeds, numbered after every stored checkpoint.
//
// The database cannot check the note's signature: a store that accepts a
// consistent raw row keeps its note verbatim, and verification reports a
// bad signature.
func TestAuditRawCheckpoints(t *testing.T, h CheckpointBypassHarness) {
	random := func() ports.AuditHash {
		var x ports.AuditHash
		_, _ = rand.Read(x[:])
		return x
	}
	// Each case builds the raw row from the log (head is its last event)
	// and the checkpoint stored before it (N 1, at the event before the
	// head).
	tests := []struct {
		name string
		row  func(log []ports.AuditEvent) ports.AuditCheckpoint
		// mayLand: the row is consistent with the log and the earlier
		// checkpoint, so a store may accept it.
		mayLand bool
	}{
		{"past the head", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, int64(len(log))+1, random())
		}, false},
		{"far past the head", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, math.MaxInt64, random())
		}, false},
		{"a head the log never had", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, int64(len(log)), random())
		}, false},
		{"the hash of another event", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, int64(len(log)), log[len(log)-2].Hash)
		}, false},
		{"smaller than the checkpoint before", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, 1, log[0].Hash)
		}, false},
		{"numbered at the end of the range", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(math.MaxInt64, int64(len(log)), log[len(log)-1].Hash)
		}, false},
		{"numbered past a gap", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(5, int64(len(log)), log[len(log)-1].Hash)
		}, false},
		{"numbered like the checkpoint before", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(1, int64(len(log)), log[len(log)-1].Hash)
		}, false},
		{"the head, with a note nobody signed", func(log []ports.AuditEvent) ports.AuditCheckpoint {
			return rawCheckpoint(2, int64(len(log)), log[len(log)-1].Hash)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, bypass := h(t)
			shop := seed(t, s, 1, 0).shops[0].ID
			appendEvents(t, s, shop, 4)
			log := auditLog(t, s, shop)
			requireChain(t, log)
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(log, len(log)-1))
				return err
			})

			raw := tt.row(log)
			err := bypass(context.Background(), shop, raw)
			if !tt.mayLand {
				require.Error(t, err, "the database refuses a checkpoint the log does not state")
			}
			landed := err == nil

			appendEvents(t, s, shop, 1)
			log = auditLog(t, s, shop)
			var next ports.AuditCheckpoint
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				next, err = tx.AuditCheckpoints().Add(ctx, checkpointOf(log, len(log)))
				return err
			})
			want := int64(2)
			if landed {
				want = 3
			}
			assert.Equal(t, want, next.N, "the shop's own checkpoint is numbered after every stored one")
			var all []ports.AuditCheckpoint
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				all, err = tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
				if err != nil {
					return err
				}
				latest, err := tx.AuditCheckpoints().Latest(ctx)
				assert.Equal(t, next, latest)
				return err
			}, ports.ReadOnly())
			require.Len(t, all, int(want), "the stored checkpoints, and the raw row only if it landed")
			for i, c := range all {
				require.Equal(t, int64(i+1), c.N, "no gap, no repeat")
				require.LessOrEqual(t, c.Size, int64(len(log)), "checkpoint %d is within the log", c.N)
				require.Equal(t, log[c.Size-1].Hash, c.Hash, "checkpoint %d states the log's hash at its size", c.N)
				if i > 0 {
					require.GreaterOrEqual(t, c.Size, all[i-1].Size, "checkpoint %d does not shrink", c.N)
				}
			}
			if landed {
				assert.Equal(t, raw.Note, all[1].Note, "a landed row is kept verbatim, for verification to judge")
			}
		})
	}
}

// appendEvents appends n events to shop's log through the port.
func appendEvents(t *testing.T, s ports.Store, shop ports.ShopID, n int) {
	t.Helper()
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for range n {
			if _, err := tx.Audit().Append(ctx, event("x")); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkpointOf returns a checkpoint of log at size, with a note the store
// keeps verbatim (it neither signs nor checks notes).
func checkpointOf(log []ports.AuditEvent, size int) ports.AuditCheckpoint {
	c := checkpoint(int64(size))
	c.Hash = log[size-1].Hash
	return c
}

func rawCheckpoint(n, size int64, hash ports.AuditHash) ports.AuditCheckpoint {
	return ports.AuditCheckpoint{N: n, Size: size, Hash: hash, Note: "stockade.audit/forged\n1\nhash\n\n— nobody c2lnbmF0dXJl\n"}
}
