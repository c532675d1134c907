package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testMessagingTenantBoundary attacks the boundary of the messaging
// repositories: from shop B's unit of work, reach for shop A's contacts,
// consent, outbox messages and settings by every method that names one.
func testMessagingTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	annA := createContact(t, s, a, newContact("+15551230001", "ann@example.com"))
	_, optOutA := setConsent(t, s, a, ports.Consent{Contact: annA.ID, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceLink})
	msgA := enqueueMessage(t, s, a, newSMSMessage(annA))
	sentA := enqueueMessage(t, s, a, newEmailMessage(annA))
	if q, ok := s.(ports.OutboxQueue); ok {
		claimed := claimMessages(t, q, time.Now().Add(time.Hour), 10, time.Hour)
		require.Len(t, claimed, 2)
		_, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.MarkSent(ctx, sentA.ID, 1, "re_secret_a")
		})
		require.NoError(t, err)
		_, err = outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Fail(ctx, msgA.ID, 1, "boom", time.Now(), false)
		})
		require.NoError(t, err)
	}
	settingsA, err := settingsOp(s, a, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Save(ctx, ports.MessagingSettings{MessagingServiceSID: "MGalpha", HelpText: "Alpha help"})
	})
	require.NoError(t, err)
	stateA := func() (ports.Contact, []ports.Consent, []ports.OutboxMessage) {
		c, err := getContact(s, a, annA.ID)
		require.NoError(t, err)
		return c, consentOf(t, s, a, annA.ID), listMessages(t, s, a, ports.OutboxQuery{})
	}
	contactBefore, consentBefore, messagesBefore := stateA()
	require.Equal(t, []ports.Consent{optOutA}, consentBefore)

	t.Run("ContactsOfAnotherShopAreInvisible", func(t *testing.T) {
		for name, do := range map[string]func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error){
			"get": func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
				return r.GetContact(ctx, annA.ID)
			},
			"by phone": func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
				return r.ContactByPhone(ctx, annA.Phone)
			},
			"by email": func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
				return r.ContactByEmail(ctx, annA.Email)
			},
			"update": func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
				c := annA
				c.Email = "eve@example.com"
				return r.UpdateContact(ctx, c)
			},
		} {
			_, err := consentOp(s, b, do)
			require.ErrorIs(t, err, ports.ErrNotFound, name)
		}
		list, err := consentOp(s, b, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Contact, error) {
			return r.ListContacts(ctx, ports.ContactID{}, 0)
		})
		require.NoError(t, err)
		assert.Empty(t, list)
		_, err = consentOp(s, b, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Consent, error) {
			return r.Consent(ctx, annA.ID)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("ConsentOfAnotherShopCannotBeChanged", func(t *testing.T) {
		err := s.InShop(context.Background(), b, func(ctx context.Context, tx ports.ShopTx) error {
			_, _, err := tx.Consent().SetConsent(ctx, ports.Consent{Contact: annA.ID, Topic: ports.TopicMarketing, OptedOut: false, Source: ports.SourceAdmin})
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "A's contact is unknown in B")
		eveB := createContact(t, s, b, newContact("+15551230009", ""))
		_, err = consentOp(s, b, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.MergeContacts(ctx, eveB.ID, annA.ID)
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "B cannot merge A's contact into its own")
	})

	t.Run("SameAddressesInAnotherShopAreAnotherContact", func(t *testing.T) {
		annB := createContact(t, s, b, newContact(annA.Phone, annA.Email))
		assert.NotEqual(t, annA.ID, annB.ID)
		assert.Empty(t, consentOf(t, s, b, annB.ID), "A's opt-out is A's: consent is per shop")
	})

	t.Run("MessagesOfAnotherShopAreUntouchable", func(t *testing.T) {
		for name, do := range map[string]func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error){
			"get": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) { return r.Get(ctx, msgA.ID) },
			"by provider": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.ByProviderID(ctx, ports.ChannelEmail, "re_secret_a")
			},
			"cancel": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.Cancel(ctx, msgA.ID, "x")
			},
			"retry": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.Retry(ctx, msgA.ID, time.Time{})
			},
			"report": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.ReportStatus(ctx, sentA.ID, "failed", ports.MessageFailed)
			},
			"mark sent": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.MarkSent(ctx, msgA.ID, 1, "x")
			},
			"fail": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.Fail(ctx, msgA.ID, 1, "x", time.Time{}, true)
			},
			"settle": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.Settle(ctx, msgA.ID, 1, ports.MessageCancelled, "x")
			},
			"defer": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return r.Defer(ctx, msgA.ID, 1, time.Now(), "x")
			},
			"dispatch": func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
				return ports.OutboxMessage{}, r.Dispatch(ctx, msgA.ID, 1)
			},
		} {
			_, err := outboxOp(s, b, do)
			require.ErrorIs(t, err, ports.ErrNotFound, name)
		}
		assert.Empty(t, listMessages(t, s, b, ports.OutboxQuery{}))
		assert.Empty(t, listMessages(t, s, b, ports.OutboxQuery{Contact: annA.ID}))
		err := s.InShop(context.Background(), b, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Outbox().Enqueue(ctx, newSMSMessage(annA))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "B cannot enqueue to A's contact")
	})

	t.Run("SettingsAreTheShopsOwn", func(t *testing.T) {
		got, err := settingsOp(s, b, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
			return r.Get(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, ports.MessagingSettings{}, got, "B does not see A's settings")
		_, err = settingsOp(s, b, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
			return r.Save(ctx, ports.MessagingSettings{HelpText: "Bravo help"})
		})
		require.NoError(t, err)
		got, err = settingsOp(s, a, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
			return r.Get(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, settingsA, got, "B's save left A's settings alone")
	})

	contactAfter, consentAfter, messagesAfter := stateA()
	assert.Equal(t, contactBefore, contactAfter, "A's contact is unchanged")
	assert.Equal(t, consentBefore, consentAfter, "A's consent is unchanged")
	assert.Equal(t, messagesBefore, messagesAfter, "A's messages are unchanged")
}
