package ports

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// WebhookEndpointID identifies a shop's webhook endpoint. It is not a
// secret.
type WebhookEndpointID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id WebhookEndpointID) IsZero() bool { return id.UUID == uuid.Nil }

// NewWebhookEndpointID returns a fresh UUIDv7 webhook endpoint ID.
func NewWebhookEndpointID() WebhookEndpointID { return WebhookEndpointID{newUUID()} }

// ParseWebhookEndpointID parses the canonical text form of a webhook
// endpoint ID (see ParseShopID).
func ParseWebhookEndpointID(s string) (WebhookEndpointID, error) {
	u, err := parseUUID("webhook endpoint id", s)
	return WebhookEndpointID{u}, err
}

// Limits of a webhook endpoint's fields.
const (
	// MaxWebhookURLLen bounds an endpoint's URL.
	MaxWebhookURLLen = 2048
	// MaxWebhookEvents bounds how many event types one endpoint names.
	MaxWebhookEvents = 32
	// MaxWebhookEventLen bounds one event type ("member.added").
	MaxWebhookEventLen = 64
	// MaxWebhookDescriptionLen bounds the description, in bytes.
	MaxWebhookDescriptionLen = 256
	// MaxSealedSecretLen bounds a sealed signing secret.
	MaxSealedSecretLen = 1024
)

// WebhookAllEvents is the event type that subscribes an endpoint to every
// event.
const WebhookAllEvents = "*"

// WebhookEndpoint is a URL of the shop's that receives its signed event
// notifications (outbound webhooks, signed per Standard Webhooks). It is a
// tenant row.
//
// The signing secret must be readable again to sign, so it cannot be
// hashed: the store keeps SealedSecret, the secret sealed by the caller
// (with the shop's key from the KeyManager), as opaque bytes, and never
// sees the secret itself.
type WebhookEndpoint struct {
	ID WebhookEndpointID
	// URL is an absolute https URL (http only for a loopback host, for
	// local development), without user info or fragment.
	URL string
	// Events are the event types delivered, sorted and without duplicates
	// (NormalizeWebhookEvents); WebhookAllEvents alone means every event.
	Events       []string
	Description  string
	SealedSecret []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DisabledAt   time.Time // zero while the endpoint is enabled
}

// Wants reports whether the endpoint is enabled and subscribed to event.
func (e WebhookEndpoint) Wants(event string) bool {
	if !e.DisabledAt.IsZero() || event == "" {
		return false
	}
	return slices.Contains(e.Events, WebhookAllEvents) || slices.Contains(e.Events, event)
}

// NormalizeWebhookEvents sorts events and drops duplicates; it returns a
// new slice.
func NormalizeWebhookEvents(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}

// Validate checks an endpoint before it is stored; Events must already be
// normalised (NormalizeWebhookEvents).
func (e WebhookEndpoint) Validate() error {
	if e.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if err := ValidateWebhookURL(e.URL); err != nil {
		return err
	}
	if len(e.Events) == 0 || len(e.Events) > MaxWebhookEvents {
		return Invalid("events", "must name 1 to 32 event types")
	}
	for i, ev := range e.Events {
		if ev != WebhookAllEvents && !lowerName(ev, MaxWebhookEventLen, true) {
			return Invalid("events", "each must be \"*\" or 1 to 64 characters of a-z, 0-9, '_', '-', '.', starting with a letter")
		}
		if i > 0 && e.Events[i-1] >= ev {
			return Invalid("events", "must be sorted and without duplicates")
		}
	}
	if len(e.Description) > MaxWebhookDescriptionLen || strings.ContainsFunc(e.Description, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return Invalid("description", "must be at most 256 bytes without control characters")
	}
	if len(e.SealedSecret) == 0 || len(e.SealedSecret) > MaxSealedSecretLen {
		return Invalid("sealed_secret", "must be 1 to 1024 bytes")
	}
	return nil
}

// ValidateWebhookURL checks an endpoint URL: absolute, https (or http to a
// loopback host), with a host, at most MaxWebhookURLLen bytes, no user
// info and no fragment.
func ValidateWebhookURL(raw string) error {
	bad := func(reason string) error { return Invalid("url", reason) }
	if raw == "" || len(raw) > MaxWebhookURLLen {
		return bad("must be 1 to 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute URL")
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("must not carry user info or a fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
			return bad("must use https (http only to a loopback host)")
		}
	default:
		return bad("must use https")
	}
	return nil
}

// WebhookEndpointRepo stores the webhook endpoints of the unit of work's
// shop. Every method is bound to that shop: another shop's endpoint is
// ErrNotFound, never visible.
type WebhookEndpointRepo interface {
	// Create stores e (validated in full; CreatedAt and UpdatedAt are set by
	// the store, DisabledAt must be zero). The same ID twice is
	// ErrConflict.
	Create(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error)
	// Get returns the endpoint, or ErrNotFound.
	Get(ctx context.Context, id WebhookEndpointID) (WebhookEndpoint, error)
	// List returns the shop's endpoints, oldest first.
	List(ctx context.Context) ([]WebhookEndpoint, error)
	// Update replaces the URL, events, description and sealed secret of
	// endpoint e.ID (validated in full) and stamps UpdatedAt; CreatedAt and
	// DisabledAt are kept. ErrNotFound if there is no such endpoint.
	Update(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error)
	// SetDisabled disables the endpoint at at, or enables it when at is
	// zero, and returns it. ErrNotFound if there is no such endpoint.
	SetDisabled(ctx context.Context, id WebhookEndpointID, at time.Time) (WebhookEndpoint, error)
	// Delete removes the endpoint; ErrNotFound if there is none.
	Delete(ctx context.Context, id WebhookEndpointID) error
}
