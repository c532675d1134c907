package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// webhookKey signs the test webhooks.
var webhookKey = []byte("test webhook key, 32 bytes long!")

// hmacVerifier is a stand-in ports.WebhookVerifier for the routes' tests
// (the providers' verifiers have their own, against real signatures): an
// HMAC-SHA256 of the timestamp, the URL as configured and the body, in
// X-Test-Signature, with X-Test-Timestamp within five minutes.
type hmacVerifier struct{ key []byte }

func testSignature(key []byte, ts, url string, body []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\n%s\n", ts, url)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (v hmacVerifier) Verify(_ context.Context, req ports.WebhookRequest) error {
	h := http.Header(req.Header)
	ts := h.Get("X-Test-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("no timestamp: %w", ports.ErrUnauthenticated)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("stale timestamp: %w", ports.ErrUnauthenticated)
	}
	want := testSignature(v.key, ts, req.URL, req.Body)
	if !hmac.Equal([]byte(want), []byte(h.Get("X-Test-Signature"))) {
		return fmt.Errorf("bad signature: %w", ports.ErrUnauthenticated)
	}
	return nil
}

// signTest signs a webhook body for url at t.
func signTest(h http.Header, url string, body []byte, t time.Time) {
	ts := strconv.FormatInt(t.Unix(), 10)
	h.Set("X-Test-Timestamp", ts)
	h.Set("X-Test-Signature", testSignature(webhookKey, ts, url, body))
}
