package webhooks_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockadehq/stockade/webhooks"
)

// The example of the Standard Webhooks specification (spec/standard-webhooks.md,
// "Signature scheme"), also the test vector of its reference libraries.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	got, err := webhooks.Sign(specSecret, specID, time.Unix(specTS, 0), []byte(specBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != specSig {
		t.Fatalf("Sign = %q, want the spec's %q", got, specSig)
	}
	// The prefix is optional.
	got, err = webhooks.Sign(strings.TrimPrefix(specSecret, webhooks.SecretPrefix), specID, time.Unix(specTS, 0), []byte(specBody))
	if err != nil || got != specSig {
		t.Fatalf("Sign without prefix = %q, %v; want %q", got, err, specSig)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := webhooks.FormatSecret(key)
	if !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("FormatSecret = %q, want whsec_ prefix", s)
	}
	back, err := webhooks.ParseSecret(s)
	if err != nil || string(back) != string(key) {
		t.Fatalf("ParseSecret(FormatSecret(k)) = %q, %v", back, err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!", "whsec_abc"} {
		if _, err := webhooks.ParseSecret(bad); !errors.Is(err, webhooks.ErrInvalidSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrInvalidSecret", bad, err)
		}
	}
}

func specHeaders() http.Header {
	h := http.Header{}
	h.Set(webhooks.HeaderID, specID)
	h.Set(webhooks.HeaderTimestamp, "1614265330")
	h.Set(webhooks.HeaderSignature, specSig)
	return h
}

func TestVerify(t *testing.T) {
	at := func(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }
	const otherSecret = "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	forgedSig, err := webhooks.Sign(otherSecret, specID, time.Unix(specTS, 0), []byte(specBody))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		secret string
		now    func() time.Time
		tol    time.Duration
		edit   func(h http.Header)
		body   string
		seen   func(string) bool
		want   error // nil: accepted
	}{
		{name: "spec vector", now: at(specTS)},
		{name: "4m59s late, default tolerance", now: at(specTS + 299)},
		{name: "exactly at the tolerance", now: at(specTS + 300)},
		{name: "one of several signatures matches", now: at(specTS),
			edit: func(h http.Header) { h.Set(webhooks.HeaderSignature, "v1,Zm9yZ2Vk v1a,xyz "+specSig+" garbage") }},
		{name: "missing id", now: at(specTS), edit: func(h http.Header) { h.Del(webhooks.HeaderID) }, want: webhooks.ErrMissingHeader},
		{name: "missing timestamp", now: at(specTS), edit: func(h http.Header) { h.Del(webhooks.HeaderTimestamp) }, want: webhooks.ErrMissingHeader},
		{name: "missing signature", now: at(specTS), edit: func(h http.Header) { h.Del(webhooks.HeaderSignature) }, want: webhooks.ErrMissingHeader},
		{name: "timestamp not a number", now: at(specTS), edit: func(h http.Header) { h.Set(webhooks.HeaderTimestamp, "2021-02-25T15:02:10Z") }, want: webhooks.ErrInvalidTimestamp},
		{name: "forged body", now: at(specTS), body: `{"test": 2432232315}`, want: webhooks.ErrNoMatchingSignature},
		{name: "signed with another secret", now: at(specTS), edit: func(h http.Header) { h.Set(webhooks.HeaderSignature, forgedSig) }, want: webhooks.ErrNoMatchingSignature},
		{name: "verified with another secret", secret: otherSecret, now: at(specTS), want: webhooks.ErrNoMatchingSignature},
		{name: "id changed", now: at(specTS), edit: func(h http.Header) { h.Set(webhooks.HeaderID, "msg_other") }, want: webhooks.ErrNoMatchingSignature},
		{name: "timestamp moved (re-dated replay)", now: at(specTS + 3600), edit: func(h http.Header) { h.Set(webhooks.HeaderTimestamp, "1614268930") }, want: webhooks.ErrNoMatchingSignature},
		{name: "signature of an unknown version only", now: at(specTS), edit: func(h http.Header) { h.Set(webhooks.HeaderSignature, "v2,"+strings.TrimPrefix(specSig, "v1,")) }, want: webhooks.ErrNoMatchingSignature},
		{name: "replayed after the tolerance (expired)", now: at(specTS + 301), want: webhooks.ErrTimestampOutOfTolerance},
		{name: "replayed a day later", now: at(specTS + 86400), want: webhooks.ErrTimestampOutOfTolerance},
		{name: "from the future", now: at(specTS - 301), want: webhooks.ErrTimestampOutOfTolerance},
		{name: "custom tolerance", now: at(specTS + 61), tol: time.Minute, want: webhooks.ErrTimestampOutOfTolerance},
		{name: "replayed inside the tolerance, id seen", now: at(specTS), seen: func(string) bool { return true }, want: webhooks.ErrReplayed},
		{name: "first sight of id", now: at(specTS), seen: func(string) bool { return false }},
		{name: "verifier secret malformed", secret: "whsec_!", now: at(specTS), want: webhooks.ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := specHeaders()
			if tt.edit != nil {
				tt.edit(h)
			}
			body := specBody
			if tt.body != "" {
				body = tt.body
			}
			secret := specSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			v := webhooks.Verifier{Secret: secret, Tolerance: tt.tol, Now: tt.now, Seen: tt.seen}
			err := v.Verify(h, []byte(body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
				t.Fatalf("error %q reveals the secret", err)
			}
		})
	}
}

// A Seen that records IDs accepts a message once and refuses its replay;
// Seen is not consulted (and so not poisoned) for a forged message.
func TestVerifySeenRecordsOnlyAuthentic(t *testing.T) {
	seen := map[string]bool{}
	v := webhooks.Verifier{Secret: specSecret, Now: func() time.Time { return time.Unix(specTS, 0) },
		Seen: func(id string) bool { was := seen[id]; seen[id] = true; return was }}
	if err := v.Verify(specHeaders(), []byte("forged")); !errors.Is(err, webhooks.ErrNoMatchingSignature) {
		t.Fatalf("forged: %v", err)
	}
	if len(seen) != 0 {
		t.Fatalf("Seen called for a forged message: %v", seen)
	}
	if err := v.Verify(specHeaders(), []byte(specBody)); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if err := v.Verify(specHeaders(), []byte(specBody)); !errors.Is(err, webhooks.ErrReplayed) {
		t.Fatalf("replay: %v, want ErrReplayed", err)
	}
}

func TestHeadersVerify(t *testing.T) {
	secret := webhooks.FormatSecret([]byte("a 32-byte key for the round trip"))
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"member.added"}`)
	h, err := webhooks.Headers(secret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get(webhooks.HeaderTimestamp) != "1796533200" || h.Get(webhooks.HeaderID) != "msg_1" {
		t.Fatalf("headers = %v", h)
	}
	v := webhooks.Verifier{Secret: secret, Now: func() time.Time { return now.Add(time.Minute) }}
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("Verify(Headers(...)) = %v", err)
	}
	if _, err := webhooks.Headers("whsec_", "msg_1", now, body); !errors.Is(err, webhooks.ErrInvalidSecret) {
		t.Fatalf("Headers with a bad secret = %v", err)
	}
}
