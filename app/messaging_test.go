package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// msgClock is a settable clock for the messaging service and worker.
type msgClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *msgClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *msgClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// msgWorld is a migrated store (SQLite, or Postgres as the application
// role under RLS) with shops, the messaging service over it and a clock.
type msgWorld struct {
	st      ports.Store
	cfg     app.Config
	clock   *msgClock
	svc     *messaging.Service
	tenants []tenant
}

func newMsgWorld(t testing.TB, b jobBackend, shops int) *msgWorld {
	t.Helper()
	st, _ := b.open(t)
	w := &msgWorld{st: st, clock: &msgClock{now: time.Now()}, tenants: seedTenants(t, st, shops)}
	w.cfg = app.Default()
	w.cfg.DataDir = t.TempDir()
	w.cfg.HTTP.PublicURL = "https://example.test"
	w.cfg.Messaging.WebhookURL = "https://hooks.example.test"
	var err error
	w.svc, err = app.NewMessaging(w.cfg, app.MessagingParts{Store: st, Clock: w.clock})
	require.NoError(t, err)
	for _, tn := range w.tenants {
		require.NoError(t, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.MessagingSettings().Save(ctx, ports.MessagingSettings{MessagingServiceSID: "MG" + strings.ReplaceAll(tn.shop.String(), "-", ""),
				SendFrom: 0, SendUntil: 24 * 60, TimeZone: "UTC"})
			return err
		}))
	}
	return w
}

// as is a context for a member of tenant i with role.
func (w *msgWorld) as(i int, role ports.Role) context.Context {
	return access.With(context.Background(), access.Scope{Shop: w.tenants[i].shop, User: w.tenants[i].user, Role: role})
}

func (w *msgWorld) enqueue(ctx context.Context, shop ports.ShopID, m messaging.Message) (ports.OutboxMessage, error) {
	var out ports.OutboxMessage
	err := w.st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = w.svc.Enqueue(ctx, tx, m)
		return err
	})
	return out, err
}

func (w *msgWorld) messages(t testing.TB, shop ports.ShopID) []ports.OutboxMessage {
	t.Helper()
	var out []ports.OutboxMessage
	require.NoError(t, w.st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Outbox().List(ctx, ports.OutboxQuery{Limit: 1000})
		return err
	}, ports.ReadOnly()))
	return out
}

func (w *msgWorld) audit(t testing.TB, shop ports.ShopID) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	require.NoError(t, w.st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		return err
	}, ports.ReadOnly()))
	return out
}

func marketingEmail(to string) messaging.Message {
	return messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryMarketing, To: messaging.Address{Email: to},
		Subject: "Spring sale", Body: "20% off all tune-ups this week."}
}

func marketingSMS(to string) messaging.Message {
	return messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryMarketing, To: messaging.Address{Phone: to},
		Body: "Acme: 20% off tune-ups this week. Reply STOP to opt out."}
}

func receipt(to string) messaging.Message {
	return messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryTransactional, To: messaging.Address{Email: to},
		Subject: "Your receipt", Body: "Paid: $120."}
}

// TestCrossChannelConsent is MSG-4's acceptance: a STOP by SMS refuses
// marketing e-mail to the same contact with ErrOptedOut (transactional
// e-mail still goes), START brings it back; an e-mail unsubscribe refuses
// marketing SMS; every change is in the shop's audit log with its source.
func TestCrossChannelConsent(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			w := newMsgWorld(t, b, 2)
			shop, other := w.tenants[0].shop, w.tenants[1].shop
			sales := w.as(0, ports.RoleSales)
			const phone, email = "+15551230001", "ann@example.com"
			var ann ports.Contact
			require.NoError(t, w.st.InShop(sales, shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				ann, err = w.svc.SaveContact(ctx, tx, messaging.Address{Phone: "+1 (555) 123-0001", Email: "Ann@Example.com"})
				return err
			}))
			assert.Equal(t, phone, ann.Phone)
			assert.Equal(t, email, ann.Email)
			_, err := w.enqueue(sales, shop, marketingEmail(email))
			require.NoError(t, err, "marketing e-mail goes before any opt-out")

			res, err := w.svc.ReceiveSMS(context.Background(), messaging.InboundSMS{Shop: shop, Provider: "twilio", EventID: "SM-stop-1", From: phone, Body: "Stop texting me!"})
			require.NoError(t, err)
			assert.Equal(t, messaging.KeywordOptOut, res.Keyword)
			assert.Equal(t, 2, res.Changed, "sms and marketing withdrawn")

			_, err = w.enqueue(sales, shop, marketingEmail(email))
			require.ErrorIs(t, err, ports.ErrOptedOut, "an SMS STOP stops marketing e-mail")
			_, err = w.enqueue(sales, shop, marketingSMS(phone))
			require.ErrorIs(t, err, ports.ErrOptedOut)
			_, err = w.enqueue(sales, shop, messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
				To: messaging.Address{Phone: phone}, Body: "Your technician is on the way."})
			require.ErrorIs(t, err, ports.ErrOptedOut, "STOP stops every SMS, transactional too")
			_, err = w.enqueue(sales, shop, receipt(email))
			require.NoError(t, err, "a receipt by e-mail still goes")
			_, err = w.enqueue(w.as(1, ports.RoleSales), other, marketingEmail(email))
			require.NoError(t, err, "another shop's registry is its own")

			res, err = w.svc.ReceiveSMS(context.Background(), messaging.InboundSMS{Shop: shop, Provider: "twilio", EventID: "SM-stop-1", From: phone, Body: "START"})
			require.NoError(t, err)
			assert.True(t, res.Replay, "a replayed event ID changes nothing, whatever its body")
			_, err = w.enqueue(sales, shop, marketingEmail(email))
			require.ErrorIs(t, err, ports.ErrOptedOut)

			res, err = w.svc.ReceiveSMS(context.Background(), messaging.InboundSMS{Shop: shop, Provider: "twilio", EventID: "SM-start-1", From: phone, Body: " start "})
			require.NoError(t, err)
			assert.Equal(t, messaging.KeywordOptIn, res.Keyword)
			_, err = w.enqueue(sales, shop, marketingEmail(email))
			require.NoError(t, err, "back after START")
			_, err = w.enqueue(sales, shop, marketingSMS(phone))
			require.NoError(t, err)

			// The other way round: an e-mail unsubscribe stops marketing SMS.
			outbox := w.messages(t, shop)
			var header string
			for _, m := range outbox {
				if m.Category == ports.CategoryMarketing && m.Channel == ports.ChannelEmail {
					header = m.Email.Headers["List-Unsubscribe"]
					assert.Equal(t, "List-Unsubscribe=One-Click", m.Email.Headers["List-Unsubscribe-Post"])
				}
			}
			prefix := "<https://shop-0.example.test/u/"
			require.True(t, strings.HasPrefix(header, prefix) && strings.HasSuffix(header, ">"), "RFC 8058 header on the shop's host: %q", header)
			token := strings.TrimSuffix(strings.TrimPrefix(header, prefix), ">")
			require.NoError(t, w.svc.Unsubscribe(context.Background(), messaging.UnsubscribeRequest{Shop: shop, Token: token, IP: "192.0.2.1"}))
			_, err = w.enqueue(sales, shop, marketingSMS(phone))
			require.ErrorIs(t, err, ports.ErrOptedOut, "an e-mail unsubscribe stops marketing SMS")
			_, err = w.enqueue(sales, shop, messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
				To: messaging.Address{Phone: phone}, Body: "Your technician is on the way."})
			require.NoError(t, err, "and leaves transactional SMS alone")

			var changes []string
			for _, ev := range w.audit(t, shop) {
				if strings.HasPrefix(ev.Action, "messaging.consent.") {
					assert.Equal(t, "contact:"+ann.ID.String(), ev.Target)
					changes = append(changes, fmt.Sprintf("%s %s %s", ev.Actor, ev.Action, ev.After))
				}
			}
			assert.Equal(t, []string{
				`system:sms-keyword messaging.consent.withdrawn {"topic":"sms","opted_out":true,"source":"keyword","via":"sms"}`,
				`system:sms-keyword messaging.consent.withdrawn {"topic":"marketing","opted_out":true,"source":"keyword","via":"sms"}`,
				`system:sms-keyword messaging.consent.given {"topic":"sms","opted_out":false,"source":"keyword","via":"sms"}`,
				`system:sms-keyword messaging.consent.given {"topic":"marketing","opted_out":false,"source":"keyword","via":"sms"}`,
				`system:unsubscribe-link messaging.consent.withdrawn {"topic":"marketing","opted_out":true,"source":"link","via":"email"}`,
			}, changes, "every change audited with its source")
		})
	}
}

// TestEnqueueCommitsWithItsChange: a message is enqueued in the caller's
// unit of work, so rolling the change back leaves no message (nor the
// contact it created); the guard refuses a viewer and a unit of work of
// another shop.
func TestEnqueueCommitsWithItsChange(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			w := newMsgWorld(t, b, 2)
			shop := w.tenants[0].shop
			errBusiness := errors.New("the quote could not be saved")
			err := w.st.InShop(w.as(0, ports.RoleSales), shop, func(ctx context.Context, tx ports.ShopTx) error {
				if _, err := w.svc.Enqueue(ctx, tx, receipt("bob@example.com")); err != nil {
					return err
				}
				return errBusiness
			})
			require.ErrorIs(t, err, errBusiness)
			assert.Empty(t, w.messages(t, shop), "rolled back: no message")
			_, err = w.svc.FindContact(w.as(0, ports.RoleOwner), "bob@example.com")
			require.ErrorIs(t, err, ports.ErrNotFound, "nor the contact it created")

			_, err = w.enqueue(w.as(0, ports.RoleViewer), shop, receipt("bob@example.com"))
			require.ErrorIs(t, err, ports.ErrForbidden, "viewers do not send")
			_, err = w.enqueue(context.Background(), shop, receipt("bob@example.com"))
			require.ErrorIs(t, err, ports.ErrUnauthenticated, "no scope, no send")
			_, err = w.enqueue(w.as(1, ports.RoleOwner), shop, receipt("bob@example.com"))
			require.ErrorIs(t, err, ports.ErrForbidden, "a scope of another shop cannot enqueue in this one")
			assert.Empty(t, w.messages(t, shop))

			m, err := w.enqueue(w.as(0, ports.RoleTech), shop, receipt("bob@example.com"))
			require.NoError(t, err)
			assert.Equal(t, ports.MessageQueued, m.State)
			assert.Equal(t, m.ID.String(), m.Email.IdempotencyKey, "the message ID is its idempotency key")
			assert.Empty(t, m.Email.Headers, "transactional mail has no unsubscribe header")
		})
	}
}

// TestMarketingSMSRules: a shop without its own Messaging Service cannot
// send marketing SMS (ErrNoMessagingService); marketing SMS outside the
// recipient's window is held until it opens, in the recipient's zone.
func TestMarketingSMSRules(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
	owner := w.as(0, ports.RoleOwner)
	_, err := w.svc.SaveSettings(owner, ports.MessagingSettings{TimeZone: "America/Chicago"})
	require.NoError(t, err)
	_, err = w.enqueue(owner, shop, marketingSMS("+15551230001"))
	require.ErrorIs(t, err, ports.ErrNoMessagingService)
	_, err = w.enqueue(owner, shop, messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
		To: messaging.Address{Phone: "+15551230001"}, Body: "On the way"})
	require.ErrorIs(t, err, ports.ErrNoMessagingService, "no platform default configured either")

	_, err = w.svc.SaveSettings(owner, ports.MessagingSettings{MessagingServiceSID: "MGacme", TimeZone: "America/Chicago"})
	require.NoError(t, err)
	chicago, _ := time.LoadLocation("America/Chicago")
	w.clock.now = time.Date(2026, 11, 23, 22, 30, 0, 0, chicago)
	m, err := w.enqueue(owner, shop, marketingSMS("+15551230001"))
	require.NoError(t, err)
	assert.Equal(t, "quiet hours", m.HeldFor)
	assert.True(t, time.Date(2026, 11, 24, 8, 0, 0, 0, chicago).Equal(m.RunAt), "held until 08:00 the next morning in Chicago: %v", m.RunAt.In(chicago))
	require.NoError(t, w.st.InShop(owner, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := w.svc.SaveContact(ctx, tx, messaging.Address{Phone: "+15551230002", TimeZone: "Asia/Tokyo"})
		return err
	}))
	tokyo, err := w.enqueue(owner, shop, marketingSMS("+15551230002"))
	require.NoError(t, err)
	assert.Empty(t, tokyo.HeldFor, "13:30 in Tokyo: the recipient's zone decides")
	tx, err := w.enqueue(owner, shop, messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
		To: messaging.Address{Phone: "+15551230001"}, Body: "Your technician is on the way."})
	require.NoError(t, err)
	assert.Empty(t, tx.HeldFor, "transactional SMS are not held")
	assert.Equal(t, "MGacme", tx.SMS.MessagingServiceSID)
	assert.Equal(t, "https://hooks.example.test/webhooks/twilio/status/"+shop.String()+"/"+tx.ID.String(), tx.SMS.StatusCallback)
}
