package resend_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/resend"
	"github.com/stockadehq/stockade/ports"
)

var (
	keyA    = []byte("0123456789abcdef0123456789abcdef")
	keyB    = []byte("fedcba9876543210fedcba9876543210")
	secretA = resend.Secret("whsec_" + base64.StdEncoding.EncodeToString(keyA))
	secretB = resend.Secret("whsec_" + base64.StdEncoding.EncodeToString(keyB))
	now     = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	payload = []byte(`{"type":"email.bounced","created_at":"2026-11-23T12:00:00.000Z","data":{"email_id":"4ef9a417","to":["ada@example.test"]}}`)
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// svixSign signs the way Svix documents it, without the library:
// "v1," + base64(HMAC-SHA256(key, id + "." + unix timestamp + "." + body)).
func svixSign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts.Unix(), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func hook(id string, ts time.Time, sig string, body []byte) ports.WebhookRequest {
	return ports.WebhookRequest{
		URL: "https://hooks.example.test/resend",
		Header: map[string][]string{
			"Svix-Id":        {id},
			"Svix-Timestamp": {strconv.FormatInt(ts.Unix(), 10)},
			"Svix-Signature": {sig},
		},
		Body: body,
	}
}

func verifier(t *testing.T, cfg resend.WebhookConfig) *resend.WebhookVerifier {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock{now}
	}
	v, err := resend.NewWebhookVerifier(cfg)
	require.NoError(t, err)
	return v
}

func TestWebhookVerifier(t *testing.T) {
	v := verifier(t, resend.WebhookConfig{Secrets: []resend.Secret{secretA}})
	ctx := context.Background()
	good := hook("msg_1", now, svixSign(keyA, "msg_1", now, payload), payload)
	require.NoError(t, v.Verify(ctx, good))
	assert.NoError(t, v.Verify(ctx, good), "a replay passes Verify; the caller refuses it by svix-id")

	t.Run("lower-case header names", func(t *testing.T) {
		r := hook("msg_1", now, svixSign(keyA, "msg_1", now, payload), payload)
		r.Header = map[string][]string{"svix-id": r.Header["Svix-Id"], "svix-timestamp": r.Header["Svix-Timestamp"], "svix-signature": r.Header["Svix-Signature"]}
		assert.NoError(t, v.Verify(ctx, r))
	})
	t.Run("several signatures, one valid", func(t *testing.T) {
		sig := "v1,AAAA " + svixSign(keyA, "msg_1", now, payload) + " v2,BBBB"
		assert.NoError(t, v.Verify(ctx, hook("msg_1", now, sig, payload)))
	})
	t.Run("within the tolerance", func(t *testing.T) {
		ts := now.Add(-4 * time.Minute)
		assert.NoError(t, v.Verify(ctx, hook("msg_1", ts, svixSign(keyA, "msg_1", ts, payload), payload)))
	})

	old := now.Add(-6 * time.Minute)
	future := now.Add(6 * time.Minute)
	attacks := []struct {
		name string
		give ports.WebhookRequest
	}{
		{"forged: signed with another secret", hook("msg_1", now, svixSign(keyB, "msg_1", now, payload), payload)},
		{"body changed after signing", hook("msg_1", now, svixSign(keyA, "msg_1", now, payload), append([]byte{' '}, payload...))},
		{"id changed after signing", hook("msg_2", now, svixSign(keyA, "msg_1", now, payload), payload)},
		{"stale: replayed after the tolerance", hook("msg_1", old, svixSign(keyA, "msg_1", old, payload), payload)},
		{"timestamp moved forward to dodge staleness", hook("msg_1", now, svixSign(keyA, "msg_1", old, payload), payload)},
		{"from the future", hook("msg_1", future, svixSign(keyA, "msg_1", future, payload), payload)},
		{"unknown signature version only", hook("msg_1", now, "v2,"+svixSign(keyA, "msg_1", now, payload)[3:], payload)},
		{"empty signature", hook("msg_1", now, "", payload)},
		{"missing headers", ports.WebhookRequest{Body: payload, Header: map[string][]string{}}},
		{"malformed timestamp", func() ports.WebhookRequest {
			r := hook("msg_1", now, svixSign(keyA, "msg_1", now, payload), payload)
			r.Header["Svix-Timestamp"] = []string{"yesterday"}
			return r
		}()},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, v.Verify(ctx, tt.give), ports.ErrUnauthenticated)
		})
	}
}

func TestWebhookToleranceIsConfigurable(t *testing.T) {
	v := verifier(t, resend.WebhookConfig{Secrets: []resend.Secret{secretA}, Tolerance: 10 * time.Minute})
	old := now.Add(-6 * time.Minute)
	assert.NoError(t, v.Verify(context.Background(), hook("msg_1", old, svixSign(keyA, "msg_1", old, payload), payload)))
	older := now.Add(-11 * time.Minute)
	assert.ErrorIs(t, v.Verify(context.Background(), hook("msg_1", older, svixSign(keyA, "msg_1", older, payload), payload)), ports.ErrUnauthenticated)
}

func TestWebhookSecretRotation(t *testing.T) {
	ctx := context.Background()
	both := verifier(t, resend.WebhookConfig{Secrets: []resend.Secret{secretB, secretA}})
	assert.NoError(t, both.Verify(ctx, hook("m", now, svixSign(keyA, "m", now, payload), payload)), "the previous secret still verifies")
	assert.NoError(t, both.Verify(ctx, hook("m", now, svixSign(keyB, "m", now, payload), payload)), "the new one too")
	onlyNew := verifier(t, resend.WebhookConfig{Secrets: []resend.Secret{secretB}})
	assert.ErrorIs(t, onlyNew.Verify(ctx, hook("m", now, svixSign(keyA, "m", now, payload), payload)), ports.ErrUnauthenticated,
		"once the old secret is dropped, its signatures fail")
}

func TestWebhookConfigErrors(t *testing.T) {
	for _, c := range []resend.WebhookConfig{
		{},
		{Secrets: []resend.Secret{"hunter2-Zq81xy"}},
		{Secrets: []resend.Secret{"whsec_!!!Zq81xy"}},
		{Secrets: []resend.Secret{"whsec_"}},
		{Secrets: []resend.Secret{secretA}, Tolerance: -time.Second},
	} {
		_, err := resend.NewWebhookVerifier(c)
		assert.ErrorIs(t, err, ports.ErrInvalid)
		if err != nil {
			assert.NotContains(t, err.Error(), "Zq81xy", "errors never hold a secret")
		}
	}
}
