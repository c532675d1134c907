package resend

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/stockadehq/stockade/ports"
)

// DefaultTolerance is how far a webhook's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// WebhookConfig configures a WebhookVerifier.
type WebhookConfig struct {
	// Secrets are the endpoint's signing secrets (whsec_…): the current
	// one, and while rotating, the previous one too.
	Secrets []Secret
	// Tolerance is how far svix-timestamp may be from now, either way;
	// default DefaultTolerance.
	Tolerance time.Duration
	// Clock tells now; nil is the system clock.
	Clock ports.Clock
}

// WebhookVerifier checks the Svix signature Resend puts on its webhooks:
// svix-id, svix-timestamp and svix-signature headers, HMAC-SHA256 under
// the endpoint secret over "id.timestamp.body", computed by the Svix
// library. Safe for concurrent use.
type WebhookVerifier struct {
	hooks     []*svix.Webhook
	tolerance time.Duration
	clock     ports.Clock
}

var _ ports.WebhookVerifier = (*WebhookVerifier)(nil)

// NewWebhookVerifier returns a verifier for cfg. Errors match
// ports.ErrInvalid and never contain a secret.
func NewWebhookVerifier(cfg WebhookConfig) (*WebhookVerifier, error) {
	if len(cfg.Secrets) == 0 {
		return nil, ports.Invalid("resend webhook secret", "at least one is needed")
	}
	if cfg.Tolerance < 0 {
		return nil, ports.Invalid("resend webhook tolerance", "must not be negative")
	}
	v := &WebhookVerifier{tolerance: cfg.Tolerance, clock: cfg.Clock}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.clock == nil {
		v.clock = ports.SystemClock{}
	}
	for i, s := range cfg.Secrets {
		raw := s.Reveal()
		if !strings.HasPrefix(raw, "whsec_") {
			return nil, ports.Invalid("resend webhook secret", fmt.Sprintf("secret %d must start with whsec_", i+1))
		}
		wh, err := svix.NewWebhook(raw)
		if err != nil || len(strings.TrimPrefix(raw, "whsec_")) < 16 {
			return nil, ports.Invalid("resend webhook secret", fmt.Sprintf("secret %d is not whsec_ followed by base64", i+1))
		}
		v.hooks = append(v.hooks, wh)
	}
	return v, nil
}

// Verify returns nil when req carries a Svix signature made with one of
// the secrets over its svix-id, svix-timestamp and body, and the
// timestamp is within the tolerance of now. Otherwise an error matching
// ports.ErrUnauthenticated: missing or malformed headers, a stale or
// future timestamp, a forged signature or a changed body. Replays within
// the tolerance pass; the caller refuses them by svix-id (the event ID).
// req.URL is not signed and not used.
func (v *WebhookVerifier) Verify(_ context.Context, req ports.WebhookRequest) error {
	h := http.Header{}
	for _, name := range []string{"svix-id", "svix-timestamp", "svix-signature"} {
		val := headerValue(req.Header, name)
		if val == "" {
			return fmt.Errorf("resend webhook: no %s header: %w", name, ports.ErrUnauthenticated)
		}
		h.Set(name, val)
	}
	ts, err := strconv.ParseInt(h.Get("svix-timestamp"), 10, 64)
	if err != nil {
		return fmt.Errorf("resend webhook: malformed svix-timestamp: %w", ports.ErrUnauthenticated)
	}
	if d := v.clock.Now().Sub(time.Unix(ts, 0)); d > v.tolerance || d < -v.tolerance {
		return fmt.Errorf("resend webhook: timestamp %s away from now, more than %s: %w", d.Round(time.Second), v.tolerance, ports.ErrUnauthenticated)
	}
	// The library's own timestamp check uses the wall clock and a fixed
	// tolerance; ours above uses the configured clock and tolerance.
	for _, wh := range v.hooks {
		if wh.VerifyIgnoringTimestamp(req.Body, h) == nil {
			return nil
		}
	}
	return fmt.Errorf("resend webhook: no valid signature: %w", ports.ErrUnauthenticated)
}

// headerValue returns the value of name, matching case-insensitively; ""
// when absent or given more than once with different values.
func headerValue(h map[string][]string, name string) string {
	var found []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			found = append(found, vs...)
		}
	}
	if len(found) == 0 {
		return ""
	}
	for _, v := range found[1:] {
		if v != found[0] {
			return ""
		}
	}
	return found[0]
}
