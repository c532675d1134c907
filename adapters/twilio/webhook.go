package twilio

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/stockadehq/stockade/ports"
)

// SignatureHeader is the header Twilio signs its webhooks in.
const SignatureHeader = "X-Twilio-Signature"

// WebhookVerifier checks X-Twilio-Signature on inbound SMS and status
// callbacks with the SDK's request validator: HMAC-SHA1 under the auth
// token over the public URL Twilio called plus the sorted form
// parameters (or, for JSON bodies, over the URL with its bodySHA256
// parameter, and the body's SHA-256 against that). Safe for concurrent
// use.
type WebhookVerifier struct {
	validators []twclient.RequestValidator
}

var _ ports.WebhookVerifier = (*WebhookVerifier)(nil)

// NewWebhookVerifier returns a verifier accepting signatures made with
// any of the auth tokens: the current one first, and while rotating, the
// secondary one Twilio keeps valid until the rotation is finished. Errors
// match ports.ErrInvalid.
func NewWebhookVerifier(authTokens ...Secret) (*WebhookVerifier, error) {
	if len(authTokens) == 0 {
		return nil, ports.Invalid("twilio auth token", "at least one is needed to verify webhooks")
	}
	v := &WebhookVerifier{}
	for _, t := range authTokens {
		if !alnum(t.Reveal()) {
			return nil, ports.Invalid("twilio auth token", "must be set (letters and digits)")
		}
		v.validators = append(v.validators, twclient.NewRequestValidator(t.Reveal()))
	}
	return v, nil
}

// Verify returns nil when req carries a valid X-Twilio-Signature for
// req.URL — the public URL configured in Twilio, which behind a proxy
// differs from the one the request arrived on — and req.Body. Otherwise
// an error matching ports.ErrUnauthenticated: no URL to check against, a
// missing or forged signature, a body or URL changed after signing, or a
// form body that repeats a parameter (Twilio's scheme signs each name
// once; a repeated one could smuggle a second value past the signature).
// Replays pass; the caller refuses them by MessageSid.
func (v *WebhookVerifier) Verify(_ context.Context, req ports.WebhookRequest) error {
	if req.URL == "" {
		return fmt.Errorf("twilio webhook: no public URL to verify against: %w", ports.ErrUnauthenticated)
	}
	u, err := url.Parse(req.URL)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("twilio webhook: the public URL is not absolute: %w", ports.ErrUnauthenticated)
	}
	sig := headerValue(req.Header, SignatureHeader)
	if sig == "" {
		return fmt.Errorf("twilio webhook: no %s: %w", SignatureHeader, ports.ErrUnauthenticated)
	}
	if u.Query().Get("bodySHA256") == "" {
		if err := singleValued(req.Body); err != nil {
			return err
		}
	}
	for _, val := range v.validators {
		if val.ValidateBody(req.URL, req.Body, sig) {
			return nil
		}
	}
	return fmt.Errorf("twilio webhook: %s does not match: %w", SignatureHeader, ports.ErrUnauthenticated)
}

// singleValued refuses a form body that does not parse or names a
// parameter twice.
func singleValued(body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("twilio webhook: malformed form body: %w", ports.ErrUnauthenticated)
	}
	for name, vs := range form {
		if len(vs) > 1 {
			return fmt.Errorf("twilio webhook: parameter %q repeated: %w", name, ports.ErrUnauthenticated)
		}
	}
	return nil
}

// headerValue returns the first value of name, matching case-insensitively
// so a header map that was not canonicalised still works; "" when absent
// or repeated with different values.
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
