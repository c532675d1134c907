package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/resend"
	"github.com/stockadehq/stockade/adapters/twilio"
	"github.com/stockadehq/stockade/ports"
)

// twilioSignature computes X-Twilio-Signature as Twilio documents it:
// base64(HMAC-SHA1(auth token, URL + each parameter name and value,
// sorted by name)).
func twilioSignature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// svixSignature signs as Svix documents it: "v1," + base64(HMAC-SHA256(
// secret, id + "." + unix timestamp + "." + body)).
func svixSignature(secret []byte, id string, ts time.Time, body string) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts.Unix(), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

const twilioToken = "0123456789abcdef0123456789abcdef"

// TestWebhooksWithTheProvidersSignatures is MSG-2's attack test with the
// real verifiers (adapters/twilio, adapters/resend): genuine signatures
// apply once; forged ones, signatures over a changed body or over the
// URL the proxy saw, stale Svix timestamps and replays change nothing.
func TestWebhooksWithTheProvidersSignatures(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			tv, err := twilio.NewWebhookVerifier(twilio.Secret(twilioToken))
			require.NoError(t, err)
			secret := []byte("resend webhook signing secret!!!")
			whsec := "whsec_" + base64.StdEncoding.EncodeToString(secret)
			rv, err := resend.NewWebhookVerifier(resend.WebhookConfig{Secrets: []resend.Secret{resend.Secret(whsec)}})
			require.NoError(t, err)
			w.canary.Secret("the Twilio auth token", twilioToken)
			w.canary.Secret("the Svix webhook secret", whsec)
			w.canary.Secret("the Svix signing key", string(secret))
			w.twilioHooks, w.resendHooks = tv, rv
			a := w.api(nil)
			saveBravoService(t, w, "MGbravo")
			const form = "application/x-www-form-urlencoded"
			const proxied = "10.0.0.5:8080"
			public := "https://hooks.example.test/webhooks/twilio/sms"
			twilioPost := func(path string, f url.Values, sig string) int {
				h := http.Header{}
				if sig != "" {
					h.Set("X-Twilio-Signature", sig)
				}
				res, _ := a.raw("POST", path, proxied, f.Encode(), form, h)
				return res.StatusCode
			}
			stop := url.Values{"MessageSid": {"SMreal1"}, "AccountSid": {"AC1"}, "MessagingServiceSid": {"MGbravo"}, "From": {"+15550109999"}, "Body": {"STOP"}}
			start := url.Values{"MessageSid": {"SMreal2"}, "AccountSid": {"AC1"}, "MessagingServiceSid": {"MGbravo"}, "From": {"+15550109999"}, "Body": {"START"}}
			tampered := url.Values{}
			for k, v := range stop {
				tampered[k] = v
			}
			tampered.Set("From", "+15550100000")
			before := bravoState(t, w)
			assert.Equal(t, http.StatusUnauthorized, twilioPost("/webhooks/twilio/sms", stop, ""), "unsigned")
			assert.Equal(t, http.StatusUnauthorized, twilioPost("/webhooks/twilio/sms", stop, twilioSignature("ffffffffffffffffffffffffffffffff", public, stop)), "forged")
			assert.Equal(t, http.StatusUnauthorized, twilioPost("/webhooks/twilio/sms", tampered, twilioSignature(twilioToken, public, stop)), "body changed after signing")
			assert.Equal(t, http.StatusUnauthorized, twilioPost("/webhooks/twilio/sms", stop, twilioSignature(twilioToken, "http://"+proxied+"/webhooks/twilio/sms", stop)), "signed for the internal URL")
			require.Equal(t, before, bravoState(t, w), "nothing changed")

			require.Equal(t, http.StatusOK, twilioPost("/webhooks/twilio/sms", stop, twilioSignature(twilioToken, public, stop)))
			require.True(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "a genuine STOP")
			require.Equal(t, http.StatusOK, twilioPost("/webhooks/twilio/sms", start, twilioSignature(twilioToken, public, start)))
			require.False(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "a genuine START")
			require.Equal(t, http.StatusOK, twilioPost("/webhooks/twilio/sms", stop, twilioSignature(twilioToken, public, stop)), "a replay is acknowledged")
			assert.False(t, optedOut(bravoConsent(t, w), ports.TopicSMS), "and changes nothing")

			msg := w.sentBravoSMS(t, "SMreal-out")
			path := "/webhooks/twilio/status/" + w.bravo.ID.String() + "/" + msg.String()
			delivered := url.Values{"MessageSid": {"SMreal-out"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}}
			assert.Equal(t, http.StatusUnauthorized, twilioPost(path, delivered, twilioSignature(twilioToken, "https://hooks.example.test/webhooks/twilio/status/"+w.alpha.ID.String()+"/"+msg.String(), delivered)),
				"a signature for another callback URL")
			assert.Equal(t, ports.MessageSent, w.bravoMessage(t, msg).State)
			require.Equal(t, http.StatusNoContent, twilioPost(path, delivered, twilioSignature(twilioToken, "https://hooks.example.test"+path, delivered)))
			assert.Equal(t, ports.MessageDelivered, w.bravoMessage(t, msg).State)

			// Resend (Svix): signed id, timestamp and body.
			id, err := ports.ParseMessageID(w.bravoParams["message"])
			require.NoError(t, err)
			w.markSent(t, id, "re_real_1")
			complaint := `{"type":"email.complained","created_at":"2026-11-23T10:00:00Z","data":{"email_id":"re_real_1"}}`
			resendPost := func(svixID string, ts time.Time, sig, body string) int {
				h := http.Header{"Svix-Id": {svixID}, "Svix-Timestamp": {strconv.FormatInt(ts.Unix(), 10)}, "Svix-Signature": {sig}}
				res, _ := a.raw("POST", "/webhooks/resend", "example.test", body, "application/json", h)
				return res.StatusCode
			}
			now := time.Now()
			before = bravoState(t, w)
			assert.Equal(t, http.StatusUnauthorized, resendPost("msg_r1", now, svixSignature([]byte("another secret, also 32 bytes!!!"), "msg_r1", now, complaint), complaint), "forged")
			assert.Equal(t, http.StatusUnauthorized, resendPost("msg_r1", now.Add(-10*time.Minute), svixSignature(secret, "msg_r1", now.Add(-10*time.Minute), complaint), complaint), "stale")
			assert.Equal(t, http.StatusUnauthorized, resendPost("msg_r2", now, svixSignature(secret, "msg_r1", now, complaint), complaint), "svix-id changed after signing")
			require.Equal(t, before, bravoState(t, w), "nothing changed")
			require.Equal(t, http.StatusNoContent, resendPost("msg_r1", now, svixSignature(secret, "msg_r1", now, complaint), complaint))
			require.True(t, optedOut(bravoConsent(t, w), ports.TopicMarketing), "a genuine complaint")
			setBravoMarketing(t, w, false)
			later := now.Add(time.Minute)
			require.Equal(t, http.StatusNoContent, resendPost("msg_r1", later, svixSignature(secret, "msg_r1", later, complaint), complaint), "a replay, signed afresh by Svix's retry")
			assert.False(t, optedOut(bravoConsent(t, w), ports.TopicMarketing), "changes nothing: its svix-id was applied")
		})
	}
}
