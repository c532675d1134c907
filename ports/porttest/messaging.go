package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// createContact stores c through shop's unit of work and requires success.
func createContact(t *testing.T, s ports.Store, shop ports.ShopID, c ports.Contact) ports.Contact {
	t.Helper()
	var out ports.Contact
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Consent().CreateContact(ctx, c)
		return err
	})
	return out
}

// consentOp runs do on shop's consent registry in its own unit of work.
func consentOp[T any](s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.ConsentRepo) (T, error)) (T, error) {
	var out T
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Consent())
		return err
	})
	return out, err
}

func getContact(s ports.Store, shop ports.ShopID, id ports.ContactID) (ports.Contact, error) {
	return consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) { return r.GetContact(ctx, id) })
}

func consentOf(t *testing.T, s ports.Store, shop ports.ShopID, id ports.ContactID) []ports.Consent {
	t.Helper()
	out, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Consent, error) { return r.Consent(ctx, id) })
	require.NoError(t, err)
	return out
}

func setConsent(t *testing.T, s ports.Store, shop ports.ShopID, c ports.Consent) (prev, stored ports.Consent) {
	t.Helper()
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		prev, stored, err = tx.Consent().SetConsent(ctx, c)
		return err
	})
	return prev, stored
}

func newContact(phone, email string) ports.Contact {
	return ports.Contact{ID: ports.NewContactID(), Phone: phone, Email: email}
}

func testConsent(t *testing.T, newStore StoreHarness) {
	t.Run("Contacts", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		before := time.Now().Add(-time.Minute)
		in := newContact("+15551230001", "ann@example.com")
		in.TimeZone, in.CreatedAt = "America/Chicago", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		ann := createContact(t, s, shop, in)
		assert.True(t, ann.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ann.CreatedAt, ann.UpdatedAt)
		assert.Equal(t, ports.Timestamp(ann.CreatedAt), ann.CreatedAt)
		assert.Equal(t, ports.Contact{ID: in.ID, Phone: in.Phone, Email: in.Email, TimeZone: in.TimeZone, CreatedAt: ann.CreatedAt, UpdatedAt: ann.UpdatedAt}, ann)
		got, err := getContact(s, shop, ann.ID)
		require.NoError(t, err)
		assert.Equal(t, ann, got)

		phoneOnly := createContact(t, s, shop, newContact("+447700900123", ""))
		mailOnly := createContact(t, s, shop, newContact("", "bo@example.com"))
		assert.Empty(t, phoneOnly.Email)
		assert.Empty(t, mailOnly.Phone)

		byPhone, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.ContactByPhone(ctx, "+447700900123")
		})
		require.NoError(t, err)
		assert.Equal(t, phoneOnly, byPhone)
		byEmail, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.ContactByEmail(ctx, "bo@example.com")
		})
		require.NoError(t, err)
		assert.Equal(t, mailOnly, byEmail)

		upd := mailOnly
		upd.Phone, upd.TimeZone = "+15551230002", "Europe/Paris"
		updated, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.UpdateContact(ctx, upd)
		})
		require.NoError(t, err)
		assert.Equal(t, "+15551230002", updated.Phone)
		assert.Equal(t, "Europe/Paris", updated.TimeZone)
		assert.Equal(t, mailOnly.CreatedAt, updated.CreatedAt)
		assert.False(t, updated.UpdatedAt.Before(mailOnly.UpdatedAt))

		list, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Contact, error) {
			return r.ListContacts(ctx, ports.ContactID{}, 0)
		})
		require.NoError(t, err)
		assert.Equal(t, []ports.ContactID{ann.ID, phoneOnly.ID, mailOnly.ID}, contactIDs(list), "ID order")
		page, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Contact, error) {
			return r.ListContacts(ctx, ann.ID, 1)
		})
		require.NoError(t, err)
		assert.Equal(t, []ports.ContactID{phoneOnly.ID}, contactIDs(page), "after the cursor, limited")

		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.ConsentRepo) error
			want error
		}{
			{"phone taken", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.CreateContact(ctx, newContact(ann.Phone, ""))
				return err
			}, ports.ErrConflict},
			{"email taken", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.CreateContact(ctx, newContact("", ann.Email))
				return err
			}, ports.ErrConflict},
			{"id taken", func(ctx context.Context, r ports.ConsentRepo) error {
				c := newContact("+15551239999", "")
				c.ID = ann.ID
				_, err := r.CreateContact(ctx, c)
				return err
			}, ports.ErrConflict},
			{"update onto a taken phone", func(ctx context.Context, r ports.ConsentRepo) error {
				c := phoneOnly
				c.Phone = ann.Phone
				_, err := r.UpdateContact(ctx, c)
				return err
			}, ports.ErrConflict},
			{"update unknown", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.UpdateContact(ctx, newContact("+15551238888", ""))
				return err
			}, ports.ErrNotFound},
			{"get unknown", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.GetContact(ctx, ports.NewContactID())
				return err
			}, ports.ErrNotFound},
			{"phone unknown", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.ContactByPhone(ctx, "+15550000000")
				return err
			}, ports.ErrNotFound},
			{"empty phone", func(ctx context.Context, r ports.ConsentRepo) error { _, err := r.ContactByPhone(ctx, ""); return err }, ports.ErrNotFound},
			{"empty email", func(ctx context.Context, r ports.ConsentRepo) error { _, err := r.ContactByEmail(ctx, ""); return err }, ports.ErrNotFound},
			{"negative limit", func(ctx context.Context, r ports.ConsentRepo) error {
				_, err := r.ListContacts(ctx, ports.ContactID{}, -1)
				return err
			}, ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Conflicts are found by the database, which may abort the
				// transaction: each runs in its own unit of work.
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error { return tt.do(ctx, tx.Consent()) })
				require.ErrorIs(t, err, tt.want)
			})
		}
		got, err = getContact(s, shop, phoneOnly.ID)
		require.NoError(t, err)
		assert.Equal(t, phoneOnly, got, "refused calls changed nothing")
	})

	t.Run("ContactRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		tests := []struct {
			name string
			give ports.Contact
		}{
			{"no id", ports.Contact{Phone: "+15551230001"}},
			{"no address", ports.Contact{ID: ports.NewContactID()}},
			{"phone without plus", newContact("15551230001", "")},
			{"phone with spaces", newContact("+1 555 123 0001", "")},
			{"phone starting with 0", newContact("+0551230001", "")},
			{"phone too long", newContact("+1234567890123456", "")},
			{"phone too short", newContact("+123456", "")},
			{"email not normalised", newContact("", "Ann@Example.com")},
			{"email malformed", newContact("", "ann.example.com")},
			{"zone malformed", ports.Contact{ID: ports.NewContactID(), Phone: "+15551230001", TimeZone: "Europe/Paris; DROP"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Consent().CreateContact(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		list, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Contact, error) {
			return r.ListContacts(ctx, ports.ContactID{}, 0)
		})
		require.NoError(t, err)
		assert.Empty(t, list, "nothing was written")
		err = s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Consent().CreateContact(ctx, newContact("+15551230001", ""))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "a shop that does not exist")
	})

	t.Run("ConsentRecords", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		c := createContact(t, s, shop, newContact("+15551230001", "ann@example.com"))
		assert.Empty(t, consentOf(t, s, shop, c.ID), "no record: never withdrawn")

		before := time.Now().Add(-time.Minute)
		prev, stored := setConsent(t, s, shop, ports.Consent{Contact: c.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword,
			ChangedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
		assert.Equal(t, ports.Consent{}, prev, "no previous record")
		assert.True(t, stored.ChangedAt.After(before), "the store stamps ChangedAt")
		assert.Equal(t, ports.Consent{Contact: c.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword, ChangedAt: stored.ChangedAt}, stored)
		_, mkt := setConsent(t, s, shop, ports.Consent{Contact: c.ID, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceKeyword})
		assert.Equal(t, []ports.Consent{mkt, stored}, consentOf(t, s, shop, c.ID), "one record per topic, by topic")

		prev, again := setConsent(t, s, shop, ports.Consent{Contact: c.ID, Topic: ports.TopicSMS, OptedOut: false, Source: ports.SourceAdmin})
		assert.Equal(t, stored, prev, "SetConsent returns the record it replaced")
		assert.False(t, again.OptedOut)
		assert.Equal(t, ports.SourceAdmin, again.Source)
		assert.Equal(t, []ports.Consent{mkt, again}, consentOf(t, s, shop, c.ID))

		tests := []struct {
			name string
			give ports.Consent
			want error
		}{
			{"no contact", ports.Consent{Topic: ports.TopicSMS, Source: ports.SourceAPI}, ports.ErrInvalid},
			{"bad topic", ports.Consent{Contact: c.ID, Topic: "fax", Source: ports.SourceAPI}, ports.ErrInvalid},
			{"bad source", ports.Consent{Contact: c.ID, Topic: ports.TopicSMS, Source: "rumour"}, ports.ErrInvalid},
			{"unknown contact", ports.Consent{Contact: ports.NewContactID(), Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceAPI}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, _, err := tx.Consent().SetConsent(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		_, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) ([]ports.Consent, error) {
			return r.Consent(ctx, ports.NewContactID())
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Equal(t, []ports.Consent{mkt, again}, consentOf(t, s, shop, c.ID), "refused calls changed nothing")
	})

	t.Run("ConsentOf", func(t *testing.T) { testConsentOf(t, newStore) })

	t.Run("MergeContacts", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		phone := createContact(t, s, shop, newContact("+15551230001", ""))
		mail := createContact(t, s, shop, ports.Contact{ID: ports.NewContactID(), Email: "ann@example.com", TimeZone: "Europe/Paris"})
		// phone: sms out, marketing in (later). mail: marketing out, email in.
		setConsent(t, s, shop, ports.Consent{Contact: phone.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword})
		_, mailMkt := setConsent(t, s, shop, ports.Consent{Contact: mail.ID, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceLink})
		_, mailEmail := setConsent(t, s, shop, ports.Consent{Contact: mail.ID, Topic: ports.TopicEmail, OptedOut: false, Source: ports.SourceAdmin})
		_, phoneMkt := setConsent(t, s, shop, ports.Consent{Contact: phone.ID, Topic: ports.TopicMarketing, OptedOut: false, Source: ports.SourceAdmin})
		require.True(t, phoneMkt.ChangedAt.After(mailMkt.ChangedAt) || phoneMkt.ChangedAt.Equal(mailMkt.ChangedAt))
		msg := enqueueMessage(t, s, shop, newEmailMessage(mail))

		merged, err := consentOp(s, shop, func(ctx context.Context, r ports.ConsentRepo) (ports.Contact, error) {
			return r.MergeContacts(ctx, phone.ID, mail.ID)
		})
		require.NoError(t, err)
		assert.Equal(t, phone.ID, merged.ID)
		assert.Equal(t, "+15551230001", merged.Phone)
		assert.Equal(t, "ann@example.com", merged.Email)
		assert.Equal(t, "Europe/Paris", merged.TimeZone)
		_, err = getContact(s, shop, mail.ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "the dropped contact is gone")
		got := consentOf(t, s, shop, phone.ID)
		require.Len(t, got, 3)
		assert.Equal(t, ports.TopicEmail, got[0].Topic)
		assert.Equal(t, mailEmail.Source, got[0].Source, "a topic only drop had moves over")
		assert.Equal(t, ports.TopicMarketing, got[1].Topic)
		assert.True(t, got[1].OptedOut, "an opt-out on either side wins over a later opt-in")
		assert.Equal(t, ports.SourceLink, got[1].Source)
		assert.Equal(t, ports.TopicSMS, got[2].Topic)
		assert.True(t, got[2].OptedOut)
		m := getMessage(t, s, shop, msg.ID)
		assert.Equal(t, phone.ID, m.Contact, "the dropped contact's messages move to the kept one")

		other := createContact(t, s, shop, newContact("+15551230002", "bo@example.com"))
		tests := []struct {
			name       string
			keep, drop ports.ContactID
			want       error
		}{
			{"same contact", phone.ID, phone.ID, ports.ErrInvalid},
			{"both hold a phone", phone.ID, other.ID, ports.ErrInvalid},
			{"unknown keep", ports.NewContactID(), other.ID, ports.ErrNotFound},
			{"unknown drop", phone.ID, ports.NewContactID(), ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Consent().MergeContacts(ctx, tt.keep, tt.drop)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		got2, err := getContact(s, shop, other.ID)
		require.NoError(t, err)
		assert.Equal(t, other, got2, "a refused merge changed nothing")
	})
}

func contactIDs(cs []ports.Contact) []ports.ContactID {
	out := make([]ports.ContactID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func settingsOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error)) (ports.MessagingSettings, error) {
	var out ports.MessagingSettings
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.MessagingSettings())
		return err
	})
	return out, err
}

func directoryOp(s ports.Store, do func(ctx context.Context, r ports.MessagingDirectoryRepo) (ports.ShopID, error)) (ports.ShopID, error) {
	var out ports.ShopID
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = do(ctx, tx.MessagingDirectory())
		return err
	}, ports.ReadOnly())
	return out, err
}

func testMessagingSettings(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	get := func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Get(ctx)
	}
	none, err := settingsOp(s, a, get)
	require.NoError(t, err)
	assert.Equal(t, ports.MessagingSettings{}, none, "never saved: the zero settings")

	want := ports.MessagingSettings{MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", HelpText: "Acme: reply STOP to opt out.",
		SendFrom: 9 * 60, SendUntil: 20*60 + 30, TimeZone: "America/Denver"}
	saved, err := settingsOp(s, a, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Save(ctx, want)
	})
	require.NoError(t, err)
	want.UpdatedAt = saved.UpdatedAt
	assert.Equal(t, want, saved)
	assert.False(t, saved.UpdatedAt.IsZero(), "the store stamps UpdatedAt")
	got, err := settingsOp(s, a, get)
	require.NoError(t, err)
	assert.Equal(t, saved, got)

	shop, err := directoryOp(s, func(ctx context.Context, r ports.MessagingDirectoryRepo) (ports.ShopID, error) {
		return r.ShopByMessagingService(ctx, want.MessagingServiceSID)
	})
	require.NoError(t, err)
	assert.Equal(t, a, shop, "inbound SMS on the service route to its shop")
	for _, sid := range []string{"MGunknown", "", strings.ToLower(want.MessagingServiceSID[:2]) + want.MessagingServiceSID[2:]} {
		_, err = directoryOp(s, func(ctx context.Context, r ports.MessagingDirectoryRepo) (ports.ShopID, error) {
			return r.ShopByMessagingService(ctx, sid)
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "sid %q", sid)
	}

	_, err = settingsOp(s, b, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Save(ctx, ports.MessagingSettings{MessagingServiceSID: want.MessagingServiceSID})
	})
	require.ErrorIs(t, err, ports.ErrConflict, "one service belongs to one shop")
	bs, err := settingsOp(s, b, get)
	require.NoError(t, err)
	assert.Equal(t, ports.MessagingSettings{}, bs, "B saved nothing")
	got, err = settingsOp(s, a, get)
	require.NoError(t, err)
	assert.Equal(t, saved, got, "B's attempt left A's settings alone")

	cleared, err := settingsOp(s, a, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Save(ctx, ports.MessagingSettings{HelpText: "help"})
	})
	require.NoError(t, err)
	assert.Empty(t, cleared.MessagingServiceSID)
	_, err = settingsOp(s, b, func(ctx context.Context, r ports.MessagingSettingsRepo) (ports.MessagingSettings, error) {
		return r.Save(ctx, ports.MessagingSettings{MessagingServiceSID: want.MessagingServiceSID})
	})
	require.NoError(t, err, "a released service can be taken")
	shop, err = directoryOp(s, func(ctx context.Context, r ports.MessagingDirectoryRepo) (ports.ShopID, error) {
		return r.ShopByMessagingService(ctx, want.MessagingServiceSID)
	})
	require.NoError(t, err)
	assert.Equal(t, b, shop)

	for name, bad := range map[string]ports.MessagingSettings{
		"sid with symbols":     {MessagingServiceSID: "MG'; --"},
		"sid too long":         {MessagingServiceSID: strings.Repeat("M", 65)},
		"help too long":        {HelpText: strings.Repeat("h", 1601)},
		"window reversed":      {SendFrom: 21 * 60, SendUntil: 8 * 60},
		"window past midnight": {SendFrom: 0, SendUntil: 24*60 + 1},
		"window negative":      {SendFrom: -1, SendUntil: 60},
		"zone malformed":       {TimeZone: "Mars/Olympus Mons"},
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedInShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.MessagingSettings().Save(ctx, bad)
				return err
			})
			require.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
	got, err = settingsOp(s, a, get)
	require.NoError(t, err)
	assert.Equal(t, cleared, got, "refused saves changed nothing")
}
