package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/twilio"
	"github.com/stockadehq/stockade/ports"
)

// sign computes X-Twilio-Signature the way Twilio documents it, without
// the SDK: base64(HMAC-SHA1(token, URL + every parameter name and value,
// sorted by name)).
func sign(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

const publicURL = "https://hooks.example.test/twilio/sms"

// inbound is an inbound SMS as Twilio posts it, its body written in an
// order other than the sorted one.
var inbound = url.Values{
	"MessageSid": {"SM11111111111111111111111111111111"}, "AccountSid": {accountSID},
	"From": {"+15557654321"}, "To": {"+15551234567"}, "Body": {"STOP"}, "NumMedia": {"0"},
}

func body(pairs ...string) []byte {
	var parts []string
	for i := 0; i < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return []byte(strings.Join(parts, "&"))
}

// inboundBody is inbound encoded with its parameters out of order.
var inboundBody = body("To", "+15551234567", "Body", "STOP", "From", "+15557654321", "NumMedia", "0",
	"MessageSid", "SM11111111111111111111111111111111", "AccountSid", accountSID)

func req(u string, b []byte, sig string) ports.WebhookRequest {
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}
	if sig != "" {
		h["X-Twilio-Signature"] = []string{sig}
	}
	return ports.WebhookRequest{URL: u, Header: h, Body: b}
}

func TestWebhookVerifier(t *testing.T) {
	v, err := twilio.NewWebhookVerifier(authToken)
	require.NoError(t, err)
	ctx := context.Background()
	good := sign(authToken, publicURL, inbound)

	t.Run("valid, parameters in any order", func(t *testing.T) {
		assert.NoError(t, v.Verify(ctx, req(publicURL, inboundBody, good)))
	})
	t.Run("header name in another case", func(t *testing.T) {
		r := req(publicURL, inboundBody, "")
		r.Header["x-twilio-signature"] = []string{good}
		assert.NoError(t, v.Verify(ctx, r))
	})
	t.Run("status callback by GET: parameters in the URL", func(t *testing.T) {
		u := "https://hooks.example.test/twilio/status?MessageSid=SM1&MessageStatus=delivered"
		assert.NoError(t, v.Verify(ctx, req(u, nil, sign(authToken, u, nil))))
	})

	attacks := []struct {
		name string
		give ports.WebhookRequest
	}{
		{"missing signature", req(publicURL, inboundBody, "")},
		{"empty signature", req(publicURL, inboundBody, " ")},
		{"forged with another token", req(publicURL, inboundBody, sign("0000feed0000feed0000feed0000feed", publicURL, inbound))},
		{"signature of another request", req(publicURL, inboundBody, sign(authToken, publicURL, url.Values{"Body": {"hello"}}))},
		{"body changed after signing", req(publicURL, body("To", "+15551234567", "Body", "START", "From", "+15557654321", "NumMedia", "0",
			"MessageSid", "SM11111111111111111111111111111111", "AccountSid", accountSID), good)},
		{"parameter added after signing", req(publicURL, append(append([]byte{}, inboundBody...), "&Extra=1"...), good)},
		{"parameter repeated to smuggle a value", req(publicURL, append(append([]byte{}, inboundBody...), "&Body=START"...), good)},
		{"the proxy's URL instead of the public one", req("http://10.0.0.5:8080/twilio/sms", inboundBody, good)},
		{"another path on the public host", req("https://hooks.example.test/twilio/other", inboundBody, good)},
		{"no public URL configured", req("", inboundBody, good)},
		{"a relative URL", req("/twilio/sms", inboundBody, good)},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(ctx, tt.give)
			assert.ErrorIs(t, err, ports.ErrUnauthenticated)
		})
	}
	t.Run("conflicting signature headers", func(t *testing.T) {
		r := req(publicURL, inboundBody, good)
		r.Header["x-twilio-signature"] = []string{sign("0000feed0000feed0000feed0000feed", publicURL, inbound)}
		assert.ErrorIs(t, v.Verify(ctx, r), ports.ErrUnauthenticated)
	})
}

func TestWebhookVerifierPorts(t *testing.T) {
	v, err := twilio.NewWebhookVerifier(authToken)
	require.NoError(t, err)
	// Twilio may sign with or without the default port; both verify.
	withPort := sign(authToken, "https://hooks.example.test:443/twilio/sms", inbound)
	assert.NoError(t, v.Verify(context.Background(), req(publicURL, inboundBody, withPort)))
	assert.NoError(t, v.Verify(context.Background(), req("https://hooks.example.test:443/twilio/sms", inboundBody, sign(authToken, publicURL, inbound))))
}

func TestWebhookVerifierJSONBody(t *testing.T) {
	v, err := twilio.NewWebhookVerifier(authToken)
	require.NoError(t, err)
	payload := []byte(`{"MessageSid":"SM1","MessageStatus":"delivered"}`)
	sum := sha256.Sum256(payload)
	u := "https://hooks.example.test/twilio/events?bodySHA256=" + hex.EncodeToString(sum[:])
	sig := sign(authToken, u, nil)
	assert.NoError(t, v.Verify(context.Background(), req(u, payload, sig)))
	tampered := []byte(`{"MessageSid":"SM1","MessageStatus":"failed"}`)
	assert.ErrorIs(t, v.Verify(context.Background(), req(u, tampered, sig)), ports.ErrUnauthenticated)
}

func TestWebhookVerifierRotation(t *testing.T) {
	const secondary = "0123abcd0123abcd0123abcd0123abcd"
	v, err := twilio.NewWebhookVerifier(authToken, secondary)
	require.NoError(t, err)
	ctx := context.Background()
	assert.NoError(t, v.Verify(ctx, req(publicURL, inboundBody, sign(authToken, publicURL, inbound))))
	assert.NoError(t, v.Verify(ctx, req(publicURL, inboundBody, sign(secondary, publicURL, inbound))))
	only, err := twilio.NewWebhookVerifier(authToken)
	require.NoError(t, err)
	assert.ErrorIs(t, only.Verify(ctx, req(publicURL, inboundBody, sign(secondary, publicURL, inbound))), ports.ErrUnauthenticated,
		"once rotation ends, the old token's signatures fail")
}

func TestNewWebhookVerifierNeedsAToken(t *testing.T) {
	_, err := twilio.NewWebhookVerifier()
	assert.ErrorIs(t, err, ports.ErrInvalid)
	_, err = twilio.NewWebhookVerifier("")
	assert.ErrorIs(t, err, ports.ErrInvalid)
}
