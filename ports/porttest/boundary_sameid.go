package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testSameIDsInTwoShops gives two shops records with the same IDs (keys
// are per shop, (shop_id, id)) and works on one shop's: a store that finds
// a row by its ID alone, forgetting the shop, reads, moves or deletes the
// other shop's twin. Covered: consent reads and writes, contact merges,
// the job and outbox claims, and the session resolver's impersonation
// lookup.
func testSameIDsInTwoShops(t *testing.T, newStore StoreHarness) {
	t.Run("Consent", func(t *testing.T) { testSameIDConsent(t, newStore) })
	t.Run("Claims", func(t *testing.T) { testSameIDClaims(t, newStore) })
	t.Run("ResolverImpersonation", func(t *testing.T) { testSameIDImpersonation(t, newStore) })
}

// twinContact creates a contact with the given ID and phone or e-mail in shop.
func twinContact(t *testing.T, s ports.Store, shop ports.ShopID, id ports.ContactID, phone, email string) ports.Contact {
	t.Helper()
	c := newContact(phone, email)
	c.ID = id
	return createContact(t, s, shop, c)
}

func testSameIDConsent(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	keep, drop := ports.NewContactID(), ports.NewContactID()
	twinContact(t, s, a, keep, "+15551230011", "")
	dropA := twinContact(t, s, a, drop, "", "dora@example.com")
	twinContact(t, s, b, keep, "+15551230021", "")
	twinContact(t, s, b, drop, "", "dan@example.com")
	_, optOutA := setConsent(t, s, a, ports.Consent{Contact: drop, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceLink})
	msgA := enqueueMessage(t, s, a, newEmailMessage(dropA))
	stateA := func() ([]ports.Contact, []ports.Consent, []ports.Consent, []ports.OutboxMessage) {
		contacts, err := consentOp(s, a, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Contact, error) {
			return r.ListContacts(ctx, ports.ContactID{}, 0)
		})
		require.NoError(t, err)
		return contacts, consentOf(t, s, a, keep), consentOf(t, s, a, drop), listMessages(t, s, a, ports.OutboxQuery{})
	}
	contactsA, keepConsentA, dropConsentA, messagesA := stateA()
	require.Len(t, contactsA, 2)
	require.Empty(t, keepConsentA)
	require.Equal(t, []ports.Consent{optOutA}, dropConsentA)
	require.Equal(t, []ports.MessageID{msgA.ID}, messageIDs(messagesA))

	t.Run("ReadsSeeOnlyTheShopsTwin", func(t *testing.T) {
		assert.Empty(t, consentOf(t, s, b, drop), "A's opt-out is not B's twin's")
	})

	t.Run("SetConsentComparesWithTheShopsTwin", func(t *testing.T) {
		prev, stored := setConsent(t, s, b, ports.Consent{Contact: drop, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceAdmin})
		assert.Zero(t, prev, "B's twin had no record before: A's is not its previous one")
		assert.True(t, stored.OptedOut)
	})

	t.Run("MergeMovesOnlyTheShopsTwin", func(t *testing.T) {
		enqueueMessage(t, s, b, newEmailMessage(ports.Contact{ID: drop, Email: "dan@example.com"}))
		merged, err := consentOp(s, b, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.MergeContacts(ctx, keep, drop)
		})
		require.NoError(t, err)
		assert.Equal(t, "dan@example.com", merged.Email)
		assert.Len(t, consentOf(t, s, b, keep), 1, "B's twin's opt-out moved to B's keep")
		for _, m := range listMessages(t, s, b, ports.OutboxQuery{}) {
			assert.Equal(t, keep, m.Contact, "B's message moved to B's keep")
		}
	})

	contactsAfter, keepConsentAfter, dropConsentAfter, messagesAfter := stateA()
	assert.Equal(t, contactsA, contactsAfter, "A's contacts are unchanged")
	assert.Equal(t, keepConsentA, keepConsentAfter, "A's keep gained no consent")
	assert.Equal(t, dropConsentA, dropConsentAfter, "A's drop kept its opt-out")
	assert.Equal(t, messagesA, messagesAfter, "A's message still names A's drop")
}

func testSameIDClaims(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	now := time.Now()
	later := ports.Timestamp(now.Add(time.Hour))

	t.Run("Jobs", func(t *testing.T) {
		q, ok := s.(ports.JobQueue)
		if !ok {
			return
		}
		due := newJob("due")
		enqueue(t, s, a, due)
		twin := due
		twin.Kind, twin.RunAt = "not.due", later
		enqueue(t, s, b, twin)
		claimed := claim(t, q, now.Add(time.Minute), 10, time.Hour)
		require.Len(t, claimed, 1, "only A's job is due")
		assert.Equal(t, a, claimed[0].ShopID)
		got := mustGetJob(t, s, b, twin.ID)
		assert.Equal(t, ports.JobQueued, got.State, "B's twin was not claimed with A's job")
		assert.Zero(t, got.Attempts)
	})

	t.Run("Outbox", func(t *testing.T) {
		q, ok := s.(ports.OutboxQueue)
		if !ok {
			return
		}
		ann := createContact(t, s, a, newContact("+15551230031", ""))
		bea := createContact(t, s, b, newContact("+15551230032", ""))
		due := newSMSMessage(ann)
		enqueueMessage(t, s, a, due)
		twin := newSMSMessage(bea)
		twin.ID, twin.RunAt = due.ID, later
		enqueueMessage(t, s, b, twin)
		claimed := claimMessages(t, q, now.Add(time.Minute), 10, time.Hour)
		require.Len(t, claimed, 1, "only A's message is due")
		assert.Equal(t, a, claimed[0].ShopID)
		got := getMessage(t, s, b, twin.ID)
		assert.Equal(t, ports.MessageQueued, got.State, "B's twin was not claimed with A's message")
		assert.Zero(t, got.Attempts)
	})
}

// testSameIDImpersonation: A's impersonation is live, B's with the same ID
// has ended; a session in B naming it must not resolve as a live
// impersonation by A's.
func testSameIDImpersonation(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	r, ok := s.(ports.SessionResolver)
	require.Truef(t, ok, "%T does not implement ports.SessionResolver", s)
	f := seed(t, s, 2, 1)
	a, b := f.shops[0].ID, f.shops[1].ID
	alice := f.users[0].ID
	join(t, s, a, ports.RoleTech, alice)
	join(t, s, b, ports.RoleTech, alice)
	op := createOperator(t, s, "twin-ops@example.com")
	now := ports.Timestamp(time.Now())
	impA := createImpersonation(t, s, a, newImpersonation(op.ID, alice, now))
	twin := newImpersonation(op.ID, alice, now)
	twin.ID = impA.ID
	createImpersonation(t, s, b, twin)
	sessionIn := func(shop ports.ShopID) ports.Session {
		in := newSession(alice)
		in.Impersonation = impA.ID
		return createSession(t, s, shop, in)
	}
	sessA, sessB := sessionIn(a), sessionIn(b)
	_, err := impersonationOp(s, b, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
		return r.End(ctx, twin.ID, now)
	})
	require.NoError(t, err)

	got, err := r.ResolveSession(context.Background(), a, sessA.ID)
	require.NoError(t, err)
	assert.Equal(t, op.ID, got.Impersonator, "A's impersonation is live")
	_, err = r.ResolveSession(context.Background(), b, sessB.ID)
	require.ErrorIs(t, err, ports.ErrNotFound, "B's impersonation ended; A's live twin does not keep B's session alive")
}
