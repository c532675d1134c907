package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// raw runs one request with full control of host and headers.
func (a *matrixAPI) raw(method, target, host, body, contentType string, header http.Header) (*http.Response, string) {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = host
	req.RemoteAddr = "192.0.2.99:4000"
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	res := rec.Result()
	return res, rec.Body.String()
}

// bravoConsent is bravo's contact's consent as stored.
func bravoConsent(t *testing.T, w *matrixWorld) []ports.Consent {
	t.Helper()
	contact, err := ports.ParseContactID(w.bravoParams["contact"])
	require.NoError(t, err)
	var out []ports.Consent
	require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Consent().Consent(ctx, contact)
		return err
	}, ports.ReadOnly()))
	return out
}

func optedOut(cs []ports.Consent, topic ports.ConsentTopic) bool {
	for _, c := range cs {
		if c.Topic == topic {
			return c.OptedOut
		}
	}
	return false
}

// bravoToken is the unsubscribe token of bravo's marketing e-mail.
func bravoToken(t *testing.T, w *matrixWorld) string {
	t.Helper()
	id, err := ports.ParseMessageID(w.bravoParams["message"])
	require.NoError(t, err)
	var m ports.OutboxMessage
	require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		m, err = tx.Outbox().Get(ctx, id)
		return err
	}, ports.ReadOnly()))
	h := m.Email.Headers["List-Unsubscribe"]
	prefix := "<https://bravo.example.test/u/"
	require.True(t, strings.HasPrefix(h, prefix), "List-Unsubscribe on bravo's host: %q", h)
	token := strings.TrimSuffix(strings.TrimPrefix(h, prefix), ">")
	w.canary.Secret("bravo's unsubscribe token", token)
	return token
}

const oneClick = "List-Unsubscribe=One-Click"

// TestUnsubscribeAttacks is MSG-5's attack test: an edited token, a token
// presented on another shop's host, another contact's token, a POST
// without RFC 8058's body, and a GET (mail scanners follow links) — none
// unsubscribes anyone; the genuine one-click POST does, without sign-in,
// once, audited with source "link".
func TestUnsubscribeAttacks(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(nil)
			token := bravoToken(t, w)
			before := bravoState(t, w)

			res, body := a.raw("GET", "/u/"+token, "bravo.example.test", "", "", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, `action="/u/`+token+`"`, "a page whose button posts the link")
			assert.Contains(t, body, `name="List-Unsubscribe" value="One-Click"`)
			assert.Contains(t, body, "c***@bravo.test", "the address, masked")
			assert.NotContains(t, body, "carol.secret@bravo.test")
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

			edited := []byte(token)
			edited[10] ^= 0x01
			if edited[10] == '-' || edited[10] == '_' {
				edited[10] = 'A'
			}
			alphaToken := func() string {
				m, err := w.api(nil).msg.Send(w.asAlphaOwner(), marketingTo("ann@alpha.test"))
				require.NoError(t, err)
				h := m.Email.Headers["List-Unsubscribe"]
				return h[strings.LastIndex(h, "/")+1 : len(h)-1]
			}()
			attacks := []struct {
				name, method, host, target, body string
				want                             int
			}{
				{"GET changes nothing", "GET", "bravo.example.test", "/u/" + token, "", http.StatusOK},
				{"HEAD changes nothing", "HEAD", "bravo.example.test", "/u/" + token, "", http.StatusOK},
				{"edited token", "POST", "bravo.example.test", "/u/" + string(edited), oneClick, http.StatusNotFound},
				{"truncated token", "POST", "bravo.example.test", "/u/" + token[:40], oneClick, http.StatusNotFound},
				{"bravo's token on alpha's host", "POST", "alpha.example.test", "/u/" + token, oneClick, http.StatusNotFound},
				{"bravo's token on charlie's host", "POST", "charlie.example.test", "/u/" + token, oneClick, http.StatusNotFound},
				{"alpha's token on bravo's host", "POST", "bravo.example.test", "/u/" + alphaToken, oneClick, http.StatusNotFound},
				{"no body", "POST", "bravo.example.test", "/u/" + token, "", http.StatusBadRequest},
				{"wrong body", "POST", "bravo.example.test", "/u/" + token, "List-Unsubscribe=Yes", http.StatusBadRequest},
				{"oversized body", "POST", "bravo.example.test", "/u/" + token, oneClick + "&pad=" + strings.Repeat("x", 2000), http.StatusBadRequest},
			}
			for _, at := range attacks {
				res, body := a.raw(at.method, at.target, at.host, at.body, "application/x-www-form-urlencoded", nil)
				assert.Equal(t, at.want, res.StatusCode, "%s: %s", at.name, body)
				assert.NotContains(t, body, "carol.secret@bravo.test", at.name)
			}
			require.Equal(t, before, bravoState(t, w), "no attack unsubscribed anyone (or changed anything of bravo's)")
			require.False(t, optedOut(bravoConsent(t, w), ports.TopicMarketing))

			// The genuine one-click POST, as a mail provider sends it: no
			// cookie, no Origin.
			res, body = a.raw("POST", "/u/"+token, "bravo.example.test", oneClick, "application/x-www-form-urlencoded", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, "Bravo Secret Electric")
			cs := bravoConsent(t, w)
			assert.True(t, optedOut(cs, ports.TopicMarketing), "unsubscribed without sign-in")
			assert.Equal(t, ports.SourceLink, cs[0].Source)
			res, _ = a.raw("POST", "/u/"+token, "bravo.example.test", oneClick, "multipart/form-data; boundary=x",
				nil) // a malformed multipart body
			assert.Equal(t, http.StatusBadRequest, res.StatusCode)
			res, body = a.raw("POST", "/u/"+token, "bravo.example.test", oneClick, "application/x-www-form-urlencoded", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, "a second click is fine: %s", body)
			_, body = a.raw("GET", "/u/"+token, "bravo.example.test", "", "", nil)
			assert.Contains(t, body, "is unsubscribed")

			var withdrawn []ports.AuditEvent
			require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
				evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
				for _, ev := range evs {
					if ev.Action == "messaging.consent.withdrawn" {
						withdrawn = append(withdrawn, ev)
					}
				}
				return err
			}, ports.ReadOnly()))
			require.Len(t, withdrawn, 1, "one change, one event: the second click changed nothing")
			assert.Equal(t, "system:unsubscribe-link", withdrawn[0].Actor)
			assert.Equal(t, "192.0.2.99", withdrawn[0].IP)
			assert.JSONEq(t, `{"topic":"marketing","opted_out":true,"source":"link","via":"email"}`, string(withdrawn[0].After))
		})
	}
}

// twilioForm is an inbound SMS as Twilio posts it.
func twilioForm(sid, service, from, body string) string {
	return url.Values{"MessageSid": {sid}, "AccountSid": {"AC123"}, "MessagingServiceSid": {service}, "From": {from},
		"To": {"+15550001111"}, "Body": {body}, "NumMedia": {"0"}}.Encode()
}

// hook posts a webhook signed (unless key is nil) for the configured
// webhook URL of path, at time at, to host.
func (a *matrixAPI) hook(path, host, body, contentType string, key []byte, at time.Time, extra http.Header) (*http.Response, string) {
	h := http.Header{}
	for k, v := range extra {
		h[k] = v
	}
	if key != nil {
		ts := fmt.Sprint(at.Unix())
		h.Set("X-Test-Timestamp", ts)
		h.Set("X-Test-Signature", testSignature(key, ts, "https://hooks.example.test"+path, []byte(body)))
	}
	return a.raw("POST", path, host, body, contentType, h)
}

// TestTwilioWebhookAttacks: forged, stale, replayed and oversized inbound
// SMS and status callbacks change nothing; a genuine STOP, START and
// status report do, once. The signature is checked against the webhook
// URL as configured, whatever Host the proxy forwarded.
func TestTwilioWebhookAttacks(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(nil)
			saveBravoService(t, w, "MGbravo")
			const form = "application/x-www-form-urlencoded"
			const proxied = "10.0.0.5:8080" // the Host a proxy forwards; Twilio signed hooks.example.test
			now := time.Now()
			stop := twilioForm("SMstop1", "MGbravo", "+15550109999", "STOP")
			start := twilioForm("SMstart1", "MGbravo", "+15550109999", "Start.")
			before := bravoState(t, w)

			attacks := []struct {
				name string
				body string
				key  []byte
				at   time.Time
				want int
			}{
				{"unsigned", stop, nil, now, http.StatusUnauthorized},
				{"forged with another key", stop, []byte("not the key, but 32 bytes long!!"), now, http.StatusUnauthorized},
				{"stale", stop, webhookKey, now.Add(-10 * time.Minute), http.StatusUnauthorized},
				{"from the future", stop, webhookKey, now.Add(10 * time.Minute), http.StatusUnauthorized},
				{"oversized", stop + "&pad=" + strings.Repeat("x", 70<<10), webhookKey, now, http.StatusBadRequest},
				{"another shop's service", twilioForm("SMx", "MGnobody", "+15550109999", "STOP"), webhookKey, now, http.StatusOK},
			}
			for _, at := range attacks {
				res, body := a.hook("/webhooks/twilio/sms", proxied, at.body, form, at.key, at.at, nil)
				assert.Equal(t, at.want, res.StatusCode, "%s: %s", at.name, body)
			}
			// Signed for one body, carrying another.
			h := http.Header{}
			signTest(h, "https://hooks.example.test/webhooks/twilio/sms", []byte(start), now)
			res, _ := a.raw("POST", "/webhooks/twilio/sms", proxied, stop, form, h)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a signature over another body")
			// Signed for the URL the proxy saw instead of the public one.
			h = http.Header{}
			signTest(h, "http://"+proxied+"/webhooks/twilio/sms", []byte(stop), now)
			res, _ = a.raw("POST", "/webhooks/twilio/sms", proxied, stop, form, h)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a signature over the internal URL")
			require.Equal(t, before, bravoState(t, w), "nothing changed")

			res, body := a.hook("/webhooks/twilio/sms", proxied, stop, form, webhookKey, now, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, "<Response></Response>")
			assert.True(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "the genuine STOP opts out")
			assert.True(t, optedOut(bravoConsent(t, w), ports.TopicMarketing))
			res, _ = a.hook("/webhooks/twilio/sms", proxied, start, form, webhookKey, now, nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.False(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "START opts back in")
			res, _ = a.hook("/webhooks/twilio/sms", proxied, stop, form, webhookKey, now.Add(time.Minute), nil)
			require.Equal(t, http.StatusOK, res.StatusCode, "a replay is acknowledged")
			assert.False(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "and changes nothing: its MessageSid was applied")

			// Status callbacks: to the URL the outbox gave Twilio.
			msg := w.sentBravoSMS(t, "SMout1")
			path := "/webhooks/twilio/status/" + w.bravo.ID.String() + "/" + msg.String()
			delivered := url.Values{"MessageSid": {"SMout1"}, "MessageStatus": {"delivered"}}.Encode()
			failed := url.Values{"MessageSid": {"SMout1"}, "MessageStatus": {"failed"}}.Encode()
			res, _ = a.hook(path, proxied, delivered, form, []byte("forged key of thirty-two bytes!!"), now, nil)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
			alphaPath := "/webhooks/twilio/status/" + w.alpha.ID.String() + "/" + msg.String()
			h = http.Header{}
			signTest(h, "https://hooks.example.test"+path, []byte(delivered), now)
			res, _ = a.raw("POST", alphaPath, proxied, delivered, form, h)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a signature for bravo's callback URL does not fit alpha's")
			assert.Equal(t, ports.MessageSent, w.bravoMessage(t, msg).State)
			res, body = a.hook(path, proxied, delivered, form, webhookKey, now, nil)
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			got := w.bravoMessage(t, msg)
			assert.Equal(t, ports.MessageDelivered, got.State)
			assert.Equal(t, "delivered", got.ProviderStatus)
			res, _ = a.hook(path, proxied, failed, form, webhookKey, now, nil)
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Equal(t, ports.MessageFailed, w.bravoMessage(t, msg).State, "a later failure report")
			res, _ = a.hook(path, proxied, delivered, form, webhookKey, now.Add(time.Minute), nil)
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Equal(t, ports.MessageFailed, w.bravoMessage(t, msg).State, "the replayed delivered report changed nothing")
		})
	}
}

// TestResendWebhookAttacks: forged, stale and replayed Resend events
// change nothing; a genuine complaint withdraws marketing consent (source
// provider) and a bounce marks the message failed; an e-mail no outbox
// sent is refused so that Svix retries.
func TestResendWebhookAttacks(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(nil)
	const js = "application/json"
	id, err := ports.ParseMessageID(w.bravoParams["message"])
	require.NoError(t, err)
	w.markSent(t, id, "re_bravo_1")
	now := time.Now()
	complaint := `{"type":"email.complained","created_at":"2026-11-23T10:00:00Z","data":{"email_id":"re_bravo_1","to":["carol.secret@bravo.test"]}}`
	bounce := `{"type":"email.bounced","created_at":"2026-11-23T10:00:00Z","data":{"email_id":"re_bravo_1"}}`
	svix := func(id string) http.Header { return http.Header{"Svix-Id": {id}} }
	before := bravoState(t, w)
	for _, at := range []struct {
		name string
		key  []byte
		at   time.Time
		want int
	}{
		{"unsigned", nil, now, http.StatusUnauthorized},
		{"forged", []byte("another key that is 32 bytes ok!"), now, http.StatusUnauthorized},
		{"stale", webhookKey, now.Add(-time.Hour), http.StatusUnauthorized},
	} {
		res, body := a.hook("/webhooks/resend", "example.test", complaint, js, at.key, at.at, svix("msg_1"))
		assert.Equal(t, at.want, res.StatusCode, "%s: %s", at.name, body)
	}
	res, _ := a.hook("/webhooks/resend", "example.test", strings.Replace(complaint, "re_bravo_1", "re_unknown", 1), js, webhookKey, now, svix("msg_0"))
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "an e-mail no outbox sent")
	require.Equal(t, before, bravoState(t, w), "nothing changed")

	res, body := a.hook("/webhooks/resend", "example.test", complaint, js, webhookKey, now, svix("msg_1"))
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	cs := bravoConsent(t, w)
	assert.True(t, optedOut(cs, ports.TopicMarketing), "a spam complaint withdraws marketing")
	assert.Equal(t, ports.SourceProvider, cs[0].Source)
	res, _ = a.hook("/webhooks/resend", "example.test", bounce, js, webhookKey, now, svix("msg_2"))
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, ports.MessageFailed, w.bravoMessage(t, id).State)
	// A replay of the complaint after an admin opted the contact back in.
	setBravoMarketing(t, w, false)
	res, _ = a.hook("/webhooks/resend", "example.test", complaint, js, webhookKey, now.Add(time.Minute), svix("msg_1"))
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.False(t, optedOut(bravoConsent(t, w), ports.TopicMarketing), "the replayed svix-id changed nothing")
}

func (w *matrixWorld) asAlphaOwner() context.Context {
	return access.With(context.Background(), access.Scope{Shop: w.alpha.ID, Org: w.alpha.OrgID, User: w.orgOwner.ID, Role: ports.RoleOwner})
}

func marketingTo(email string) messaging.Message {
	return messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryMarketing, To: messaging.Address{Email: email},
		Subject: "Offer", Body: "x"}
}

// markSent claims every due message and marks id sent as providerID.
func (w *matrixWorld) markSent(t *testing.T, id ports.MessageID, providerID string) {
	t.Helper()
	q, ok := w.raw.(ports.OutboxQueue)
	require.True(t, ok)
	claimed, err := q.ClaimMessages(context.Background(), time.Now().Add(time.Hour), 1000, time.Hour)
	require.NoError(t, err)
	if m := w.bravoMessage(t, id); m.State == ports.MessageSending {
		claimed = append(claimed, m) // claimed by an earlier call
	}
	for _, m := range claimed {
		if m.ID != id {
			continue
		}
		require.NoError(t, w.raw.InShop(context.Background(), m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
			if err := tx.Outbox().Dispatch(ctx, m.ID, m.Attempts); err != nil {
				return err
			}
			_, err := tx.Outbox().MarkSent(ctx, m.ID, m.Attempts, providerID)
			return err
		}))
		return
	}
	t.Fatalf("message %s was not claimed", id)
}

// sentBravoSMS sends bravo's contact a transactional SMS and marks it
// sent as providerID.
func (w *matrixWorld) sentBravoSMS(t *testing.T, providerID string) ports.MessageID {
	t.Helper()
	asBob := access.With(context.Background(), access.Scope{Shop: w.bravo.ID, Org: w.bravo.OrgID, User: w.bob.ID, Role: ports.RoleAdmin})
	m, err := w.api(nil).msg.Send(asBob, messaging.Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
		To: messaging.Address{Phone: "+15550109999"}, Body: "Your technician is on the way."})
	require.NoError(t, err)
	w.markSent(t, m.ID, providerID)
	return m.ID
}

func (w *matrixWorld) bravoMessage(t *testing.T, id ports.MessageID) ports.OutboxMessage {
	t.Helper()
	var m ports.OutboxMessage
	require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		m, err = tx.Outbox().Get(ctx, id)
		return err
	}, ports.ReadOnly()))
	return m
}

func saveBravoService(t *testing.T, w *matrixWorld, sid string) {
	t.Helper()
	require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.MessagingSettings().Save(ctx, ports.MessagingSettings{MessagingServiceSID: sid})
		return err
	}))
}

// setBravoMarketing records bravo's contact's marketing consent as an
// admin would.
func setBravoMarketing(t *testing.T, w *matrixWorld, optedOut bool) {
	t.Helper()
	contact, err := ports.ParseContactID(w.bravoParams["contact"])
	require.NoError(t, err)
	require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, _, err := tx.Consent().SetConsent(ctx, ports.Consent{Contact: contact, Topic: ports.TopicMarketing, OptedOut: optedOut, Source: ports.SourceAdmin})
		return err
	}))
}
