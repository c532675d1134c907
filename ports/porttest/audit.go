package porttest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func event(action string) ports.AuditEvent {
	return ports.AuditEvent{
		ID: ports.NewEventID(), Time: time.Now(), Actor: "user:test", Action: action, Outcome: ports.OutcomeSuccess,
	}
}

func auditLog(t *testing.T, s ports.Store, shop ports.ShopID) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for after := int64(0); ; {
			page, err := tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: after, Limit: 1000})
			if err != nil || len(page) == 0 {
				return err
			}
			out = append(out, page...)
			after = page[len(page)-1].Seq
		}
	}, ports.ReadOnly())
	return out
}

// requireChain checks that log, a shop's whole log from seq 1, is one
// valid hash chain: each event's Hash is its ChainHash, and its PrevHash is
// the Hash of the event before (zero for the first).
func requireChain(t *testing.T, log []ports.AuditEvent) {
	t.Helper()
	var h ports.AuditHasher
	var prev ports.AuditHash
	for i, e := range log {
		require.Equal(t, int64(i+1), e.Seq, "sequence is 1..n with no gap or repeat")
		require.Equal(t, prev, e.PrevHash, "event %d links to the event before", e.Seq)
		require.False(t, e.Hash.IsZero(), "event %d is hashed", e.Seq)
		require.Equal(t, h.Sum(e), e.Hash, "event %d's hash covers it as stored", e.Seq)
		prev = e.Hash
	}
}

func testAudit(t *testing.T, newStore StoreHarness) {
	t.Run("AppendAssignsSequenceAndRoundTrips", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		full := ports.AuditEvent{
			ID: ports.NewEventID(), Time: time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.FixedZone("x", 3600)),
			Actor: "operator:42", Impersonator: "operator:7", Action: "membership.role_changed", Target: "user:9",
			Outcome: ports.OutcomeSuccess, Before: json.RawMessage(`{"role":"tech"}`), After: json.RawMessage(`{"role": "admin", "z": [1,2]}`),
			IP: "203.0.113.9", UserAgent: "Mozilla/5.0", RequestID: "req-1",
		}
		var got []ports.AuditEvent
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for _, e := range []ports.AuditEvent{full, event("a"), event("b")} {
				stored, err := tx.Audit().Append(ctx, e)
				if err != nil {
					return err
				}
				got = append(got, stored)
			}
			return nil
		})
		for i, e := range got {
			assert.Equal(t, int64(i+1), e.Seq)
			assert.Equal(t, shop, e.ShopID)
		}
		want := full
		want.ShopID, want.Seq, want.Time = shop, 1, ports.Timestamp(full.Time)
		want.Hash = want.ChainHash()
		assert.Equal(t, want, got[0], "Append returns the event as stored, chained from the zero hash")
		log := auditLog(t, s, shop)
		require.Len(t, log, 3)
		assert.Equal(t, want, log[0], "every field round-trips; JSON is kept byte for byte")
		assert.Equal(t, got, log)
		requireChain(t, log)
	})

	t.Run("ChainCoversEveryFieldAsStored", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		// JSON that a re-encoding store would change: key order, spacing,
		// duplicate keys, escapes, a number beyond float64. The chain
		// hashes the bytes as given; they must read back identical.
		odd := event("settings.changed")
		odd.Before = json.RawMessage(`{"z": 1,  "a":[1, 2], "a": "dup", "e":"\u00e9\n", "big": 1e400}`)
		odd.After = json.RawMessage(` [ ] `)
		odd.Target, odd.IP, odd.UserAgent, odd.RequestID = "user:9", "::1", "curl/8 \"quoted\"\ttab", "req-é"
		empty := event("x")
		empty.Before = json.RawMessage(`null`)
		var got []ports.AuditEvent
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for _, e := range []ports.AuditEvent{odd, empty, event("y")} {
				stored, err := tx.Audit().Append(ctx, e)
				if err != nil {
					return err
				}
				got = append(got, stored)
			}
			return nil
		})
		log := auditLog(t, s, shop)
		require.Len(t, log, 3)
		assert.Equal(t, string(odd.Before), string(log[0].Before), "JSON reads back byte for byte")
		assert.Equal(t, string(odd.After), string(log[0].After))
		assert.Equal(t, json.RawMessage(`null`), log[1].Before, "JSON null is not SQL NULL")
		assert.Nil(t, log[1].After)
		assert.Equal(t, got, log)
		requireChain(t, log)
	})

	// A store may compute the hash itself (PostgreSQL does, in SQL): it
	// must agree with ports.AppendAuditEncoding at the edges too.
	t.Run("ChainHashAtTheEdges", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		long := strings.Repeat("é", 40_000) // an 80,000-byte length prefix
		times := []time.Time{
			time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC), // -1 µs
			time.Unix(0, 0), time.Date(1900, 1, 1, 0, 0, 0, 500_000_000, time.FixedZone("LMT", 561)),
			time.Date(2262, 4, 11, 23, 47, 16, 854_775_000, time.UTC),
		}
		var got []ports.AuditEvent
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for i, at := range times {
				e := event("edge.case")
				e.Time, e.Actor, e.Impersonator, e.Target = at, "user:🦀", "", long
				e.IP, e.UserAgent, e.RequestID = "", "Mozilla/5.0 (日本語)", strings.Repeat("r", i)
				e.Before, e.After = json.RawMessage(`{"s":"\u00e9é🦀","n":-0.0}`), json.RawMessage(`{}`)
				stored, err := tx.Audit().Append(ctx, e)
				if err != nil {
					return err
				}
				got = append(got, stored)
			}
			return nil
		})
		log := auditLog(t, s, shop)
		assert.Equal(t, got, log)
		requireChain(t, log)
	})

	t.Run("ListPages", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for i := 0; i < 7; i++ {
				if _, err := tx.Audit().Append(ctx, event("tick")); err != nil {
					return err
				}
			}
			return nil
		})
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			page, err := tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: 2, Limit: 3})
			require.NoError(t, err)
			require.Len(t, page, 3)
			assert.Equal(t, []int64{3, 4, 5}, []int64{page[0].Seq, page[1].Seq, page[2].Seq})
			page, err = tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: 5})
			require.NoError(t, err)
			assert.Len(t, page, 2)
			page, err = tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: 7})
			assert.Empty(t, page)
			return err
		}, ports.ReadOnly())
	})

	t.Run("RolledBackAppendLeavesNoGap", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Audit().Append(ctx, event("first"))
			return err
		})
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Audit().Append(ctx, event("doomed")); err != nil {
				return err
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			e, err := tx.Audit().Append(ctx, event("second"))
			assert.Equal(t, int64(2), e.Seq)
			return err
		})
		requireChain(t, auditLog(t, s, shop)) // the rolled-back event's hash is not the head
	})

	t.Run("RefusesBadEvents", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		dup := event("dup")
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Audit().Append(ctx, dup)
			return err
		})
		mod := func(fn func(*ports.AuditEvent)) ports.AuditEvent { e := event("x"); fn(&e); return e }
		tests := []struct {
			name string
			give ports.AuditEvent
			want error
		}{
			{"duplicate id", dup, ports.ErrConflict},
			{"no id", mod(func(e *ports.AuditEvent) { e.ID = ports.EventID{} }), ports.ErrInvalid},
			{"no time", mod(func(e *ports.AuditEvent) { e.Time = time.Time{} }), ports.ErrInvalid},
			{"no actor", mod(func(e *ports.AuditEvent) { e.Actor = "" }), ports.ErrInvalid},
			{"no action", mod(func(e *ports.AuditEvent) { e.Action = "" }), ports.ErrInvalid},
			{"bad outcome", mod(func(e *ports.AuditEvent) { e.Outcome = "maybe" }), ports.ErrInvalid},
			{"bad json", mod(func(e *ports.AuditEvent) { e.After = json.RawMessage(`{"a":`) }), ports.ErrInvalid},
			// JSON cannot carry these bytes: an export would not verify.
			{"user agent not UTF-8", mod(func(e *ports.AuditEvent) { e.UserAgent = "curl \xff" }), ports.ErrInvalid},
			{"json not UTF-8", mod(func(e *ports.AuditEvent) { e.Before = json.RawMessage("\"\xc3\"") }), ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Audit().Append(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Len(t, auditLog(t, s, shop), 1, "refused events left nothing behind")
	})

	t.Run("AppendToMissingShop", func(t *testing.T) {
		s := newStore(t)
		err := s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Audit().Append(ctx, event("ghost"))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})
}
