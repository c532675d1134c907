package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testInFlightTenantBoundary attacks the outbox's state-fenced methods with
// another shop's message in the one state each accepts: a sending message
// for Dispatch, MarkSent, Fail, Settle and Defer (the attempt it is
// sending), a dead one for Retry. Attacked in any other state the call
// would be refused for the state, and a store that forgot the shop would
// pass for the wrong reason. Needs the store's ports.OutboxQueue to put a
// message in flight; a store without one has no sending messages.
func testInFlightTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	q, ok := s.(ports.OutboxQueue)
	if !ok {
		return
	}
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	ann := createContact(t, s, a, newContact("+15551230001", "ann@example.com"))
	sending := enqueueMessage(t, s, a, newSMSMessage(ann))
	dead := enqueueMessage(t, s, a, newEmailMessage(ann))
	require.ElementsMatch(t, []ports.MessageID{sending.ID, dead.ID},
		messageIDs(claimMessages(t, q, time.Now().Add(time.Minute), 10, time.Hour)))
	_, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Fail(ctx, dead.ID, 1, "boom", time.Time{}, true)
	})
	require.NoError(t, err)
	before := listMessages(t, s, a, ports.OutboxQuery{})
	require.Len(t, before, 2)
	for _, m := range before {
		want := map[ports.MessageID]ports.MessageState{sending.ID: ports.MessageSending, dead.ID: ports.MessageDead}[m.ID]
		require.Equal(t, want, m.State, "the attacks below need A's message %s in this state", m.ID)
	}

	for name, do := range map[string]func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error){
		"dispatch": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return ports.OutboxMessage{}, r.Dispatch(ctx, sending.ID, 1)
		},
		"mark sent": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.MarkSent(ctx, sending.ID, 1, "forged")
		},
		"fail": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Fail(ctx, sending.ID, 1, "forged", time.Time{}, true)
		},
		"settle": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Settle(ctx, sending.ID, 1, ports.MessageCancelled, "forged")
		},
		"defer": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Defer(ctx, sending.ID, 1, time.Now().Add(time.Hour), "forged")
		},
		"retry": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Retry(ctx, dead.ID, time.Time{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := outboxOp(s, b, do)
			require.ErrorIs(t, err, ports.ErrNotFound, "B reaches A's message in the state the call accepts")
		})
	}
	assert.Equal(t, before, listMessages(t, s, a, ports.OutboxQuery{}), "A's messages are unchanged")
}

// testCallerShopIgnored hands the store a record whose ShopID names
// another shop where the port says the store sets it from the unit of work
// (audit events, checkpoints, jobs, outbox messages): the record lands in
// the unit of work's shop, and the other shop sees nothing of it.
func testCallerShopIgnored(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID

	t.Run("AuditAppend", func(t *testing.T) {
		var got []ports.AuditEvent
		inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
			for _, action := range []string{"quote.create", "quote.update"} {
				e := event(action)
				e.ShopID = b
				stored, err := tx.Audit().Append(ctx, e)
				if err != nil {
					return err
				}
				got = append(got, stored)
			}
			return nil
		})
		for _, e := range got {
			assert.Equal(t, a, e.ShopID, "the event is the unit of work's shop's")
		}
		logA := auditLog(t, s, a)
		require.Len(t, logA, 2)
		requireChain(t, logA)
		assert.Equal(t, got, logA, "A's chain holds both, as returned")
		assert.Empty(t, auditLog(t, s, b), "nothing landed in B")
		var first ports.AuditEvent
		inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			first, err = tx.Audit().Append(ctx, event("b.own"))
			return err
		})
		assert.Equal(t, int64(1), first.Seq, "B's chain was not advanced by A's appends")
		assert.True(t, first.PrevHash.IsZero(), "B's chain starts afresh")
		requireChain(t, auditLog(t, s, b))
	})

	t.Run("CheckpointAdd", func(t *testing.T) {
		var got ports.AuditCheckpoint
		inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
			head, err := tx.Audit().Append(ctx, event("checkpoint.anchor"))
			if err != nil {
				return err
			}
			got, err = tx.AuditCheckpoints().Add(ctx, ports.AuditCheckpoint{ShopID: b, Size: head.Seq, Hash: head.Hash, Note: "anchor"})
			return err
		})
		assert.Equal(t, a, got.ShopID)
		latest := func(shop ports.ShopID) ([]ports.AuditCheckpoint, error) {
			var out []ports.AuditCheckpoint
			err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				out, err = tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
				return err
			}, ports.ReadOnly())
			return out, err
		}
		listA, err := latest(a)
		require.NoError(t, err)
		assert.Equal(t, []ports.AuditCheckpoint{got}, listA)
		listB, err := latest(b)
		require.NoError(t, err)
		assert.Empty(t, listB, "nothing landed in B")
	})

	t.Run("JobEnqueue", func(t *testing.T) {
		j := newJob("invoice.send")
		j.ShopID = b
		got := enqueue(t, s, a, j)
		assert.Equal(t, a, got.ShopID)
		assert.Equal(t, a, mustGetJob(t, s, a, j.ID).ShopID)
		_, err := getJob(s, b, j.ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "nothing landed in B")
	})

	t.Run("OutboxEnqueue", func(t *testing.T) {
		ann := createContact(t, s, a, newContact("+15551230002", ""))
		m := newSMSMessage(ann)
		m.ShopID = b
		got := enqueueMessage(t, s, a, m)
		assert.Equal(t, a, got.ShopID)
		assert.Equal(t, a, getMessage(t, s, a, m.ID).ShopID)
		assert.Empty(t, listMessages(t, s, b, ports.OutboxQuery{}), "nothing landed in B")
	})
}
