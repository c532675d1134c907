package porttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// checkpoint returns a checkpoint of size n with a made-up hash, for
// checks the store makes before it looks at the log. The store neither
// signs nor checks notes, so any text will do.
func checkpoint(n int64) ports.AuditCheckpoint {
	return ports.AuditCheckpoint{
		Size: n, Hash: sha256.Sum256(fmt.Appendf(nil, "head %d", n)),
		Note: fmt.Sprintf("stockade.audit/test\n%d\nhash\n\n— key sig\n", n),
	}
}

func testAuditCheckpoints(t *testing.T, newStore StoreHarness) {
	t.Run("AddNumbersAndRoundTrips", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Latest(ctx)
			require.ErrorIs(t, err, ports.ErrNotFound, "no checkpoint yet")
			return nil
		}, ports.ReadOnly())
		appendEvents(t, s, shop, 9)
		log := auditLog(t, s, shop)
		sizes := []int{5, 9, 9, len(log)} // the same head twice is allowed
		var added []ports.AuditCheckpoint
		for _, n := range sizes {
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				c, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(log, n))
				added = append(added, c)
				return err
			})
		}
		for i, c := range added {
			want := checkpointOf(log, sizes[i])
			assert.Equal(t, int64(i+1), c.N)
			assert.Equal(t, shop, c.ShopID)
			assert.Equal(t, want.Size, c.Size)
			assert.Equal(t, want.Hash, c.Hash)
			assert.Equal(t, want.Note, c.Note)
			assert.False(t, c.CreatedAt.IsZero())
			assert.Equal(t, ports.Timestamp(c.CreatedAt), c.CreatedAt)
		}
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			all, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
			require.NoError(t, err)
			assert.Equal(t, added, all)
			page, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{AfterN: 1, Limit: 1})
			require.NoError(t, err)
			assert.Equal(t, added[1:2], page)
			latest, err := tx.AuditCheckpoints().Latest(ctx)
			require.NoError(t, err)
			assert.Equal(t, added[3], latest)
			return nil
		}, ports.ReadOnly())
	})

	// A checkpoint is a statement of the log: the store refuses one the
	// log does not make, and a smaller one after a larger (AUD-4: a
	// shrinking checkpoint is tamper, never silently accepted).
	t.Run("RefusesCheckpointsTheLogDoesNotState", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		appendEvents(t, s, shop, 4)
		log := auditLog(t, s, shop)
		head := len(log)
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(log, head-1))
			return err
		})
		mod := func(size int, fn func(*ports.AuditCheckpoint)) ports.AuditCheckpoint {
			c := checkpointOf(log, size)
			fn(&c)
			return c
		}
		tests := []struct {
			name string
			give ports.AuditCheckpoint
		}{
			{"past the head", checkpoint(int64(head) + 1)},
			{"a head the log never had", mod(head, func(c *ports.AuditCheckpoint) { c.Hash = sha256.Sum256([]byte("never")) })},
			{"the hash of another event", mod(head, func(c *ports.AuditCheckpoint) { c.Hash = log[0].Hash })},
			{"smaller than the checkpoint before", checkpointOf(log, head-2)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The database refuses it, which may end the unit of work.
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.AuditCheckpoints().Add(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			all, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
			require.NoError(t, err)
			require.Len(t, all, 1, "refused checkpoints left nothing behind")
			c, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(log, head))
			assert.Equal(t, int64(2), c.N, "the head is still accepted")
			return err
		})
	})

	t.Run("RefusesBadCheckpoints", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		mod := func(fn func(*ports.AuditCheckpoint)) ports.AuditCheckpoint { c := checkpoint(1); fn(&c); return c }
		tests := []struct {
			name string
			give ports.AuditCheckpoint
		}{
			{"size zero", mod(func(c *ports.AuditCheckpoint) { c.Size = 0 })},
			{"negative size", mod(func(c *ports.AuditCheckpoint) { c.Size = -1 })},
			{"no hash", mod(func(c *ports.AuditCheckpoint) { c.Hash = ports.AuditHash{} })},
			{"no note", mod(func(c *ports.AuditCheckpoint) { c.Note = "" })},
			{"huge note", mod(func(c *ports.AuditCheckpoint) { c.Note = strings.Repeat("x", ports.MaxAuditCheckpointNote+1) })},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.AuditCheckpoints().Add(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			all, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
			assert.Empty(t, all, "refused checkpoints left nothing behind")
			return err
		}, ports.ReadOnly())
	})

	t.Run("AddToMissingShop", func(t *testing.T) {
		s := newStore(t)
		err := s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, checkpoint(1))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("PerShop", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 0)
		a, b := f.shops[0].ID, f.shops[1].ID
		appendEvents(t, s, a, 7)
		appendEvents(t, s, b, 2)
		logA, logB := auditLog(t, s, a), auditLog(t, s, b)
		inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(logA, 7))
			return err
		})
		inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
			all, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
			require.NoError(t, err)
			assert.Empty(t, all, "A's checkpoints are invisible from B")
			_, err = tx.AuditCheckpoints().Latest(ctx)
			require.ErrorIs(t, err, ports.ErrNotFound)
			c, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(logB, 2))
			assert.Equal(t, int64(1), c.N, "B numbers its own checkpoints")
			assert.Equal(t, b, c.ShopID)
			return err
		})
	})

	t.Run("StatesItsOwnShopsLog", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 0)
		a, b := f.shops[0].ID, f.shops[1].ID
		appendEvents(t, s, a, 3)
		logA := auditLog(t, s, a)
		err := s.InShop(context.Background(), b, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, checkpointOf(logA, len(logA)))
			return err
		})
		require.ErrorIs(t, err, ports.ErrInvalid, "A's log states nothing for B")
	})

	t.Run("ShopLister", func(t *testing.T) {
		s := newStore(t)
		lister, ok := s.(ports.AuditShopLister)
		if !ok {
			t.Skip("optional: the store does not implement ports.AuditShopLister")
		}
		f := seed(t, s, 3, 0)
		want := []ports.ShopID{f.shops[0].ID, f.shops[1].ID, f.shops[2].ID}
		slices.SortFunc(want, func(a, b ports.ShopID) int { return bytes.Compare(a.UUID[:], b.UUID[:]) })
		var got []ports.ShopID
		for after := (ports.ShopID{}); ; {
			page, err := lister.AuditShops(context.Background(), after, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 2)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		assert.Equal(t, want, got, "every shop once, in ID order")
	})
}
