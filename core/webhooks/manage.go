package webhooks

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

// EndpointInput is what a caller chooses for a new endpoint.
type EndpointInput struct {
	// URL is an absolute https URL (http only to a loopback host), see
	// ports.ValidateWebhookURL.
	URL string
	// Events are the event types sent to it ("member.added"), or
	// ports.WebhookAllEvents alone for every event.
	Events      []string
	Description string
}

// Created is a new endpoint and its signing secret.
type Created struct {
	// Endpoint is the stored endpoint, without its sealed secret.
	Endpoint ports.WebhookEndpoint
	// Secret is the signing secret, "whsec_<base64>", for the receiver's
	// webhooks.Verifier. It is returned here only: it is never logged,
	// audited or shown again.
	Secret string
}

// endpointAudit is what an endpoint's audit events hold: never the secret.
type endpointAudit struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	Disabled    bool     `json:"disabled"`
}

func auditOf(e ports.WebhookEndpoint) endpointAudit {
	return endpointAudit{URL: e.URL, Events: e.Events, Description: e.Description, Disabled: !e.DisabledAt.IsZero()}
}

func target(id ports.WebhookEndpointID) string { return "webhook_endpoint:" + id.String() }

// public drops the sealed secret from an endpoint handed to callers.
func public(e ports.WebhookEndpoint) ports.WebhookEndpoint {
	e.SealedSecret = nil
	return e
}

// CreateEndpoint adds an endpoint to the caller's shop
// (access.WebhooksManage), audited as "webhook.endpoint.created" in the
// same unit of work. Its secret is SecretLen bytes from crypto/rand,
// sealed with the shop's key before it is stored, and returned once in
// Created.Secret. ErrInvalid for a malformed URL, events or description.
func (s *Service) CreateEndpoint(ctx context.Context, in EndpointInput) (Created, error) {
	sc, err := s.policy.Require(ctx, access.WebhooksManage)
	if err != nil {
		return Created{}, err
	}
	e := ports.WebhookEndpoint{ID: ports.NewWebhookEndpointID(), URL: in.URL,
		Events: ports.NormalizeWebhookEvents(in.Events), Description: in.Description, SealedSecret: []byte{1}}
	if err := e.Validate(); err != nil { // before sealing: no key work for a bad request
		return Created{}, err
	}
	key := make([]byte, SecretLen)
	if _, err := rand.Read(key); err != nil {
		return Created{}, fmt.Errorf("webhook secret: %w", err)
	}
	if e.SealedSecret, err = s.keys.WrapKey(ctx, sc.Shop, key); err != nil {
		return Created{}, fmt.Errorf("seal webhook secret: %w", err)
	}
	var out ports.WebhookEndpoint
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if out, err = tx.WebhookEndpoints().Create(ctx, e); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, "webhook.endpoint.created", target(out.ID), nil, auditOf(out))
	})
	if err != nil {
		return Created{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return Created{Endpoint: public(out), Secret: sig.FormatSecret(key)}, nil
}

// ListEndpoints returns the caller's shop's endpoints, oldest first,
// without their sealed secrets (access.WebhooksManage).
func (s *Service) ListEndpoints(ctx context.Context) ([]ports.WebhookEndpoint, error) {
	sc, err := s.policy.Require(ctx, access.WebhooksManage)
	if err != nil {
		return nil, err
	}
	var out []ports.WebhookEndpoint
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.WebhookEndpoints().List(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	for i := range out {
		out[i] = public(out[i])
	}
	return out, nil
}

// SetEndpointDisabled disables the endpoint (no more events are enqueued
// for it, and deliveries already queued are dropped) or enables it again
// (access.WebhooksManage), audited as "webhook.endpoint.disabled" or
// "webhook.endpoint.enabled" in the same unit of work. ErrNotFound for
// an endpoint that is not the caller's shop's.
func (s *Service) SetEndpointDisabled(ctx context.Context, id ports.WebhookEndpointID, disabled bool) (ports.WebhookEndpoint, error) {
	sc, err := s.policy.Require(ctx, access.WebhooksManage)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	at, action := time.Time{}, "webhook.endpoint.enabled"
	if disabled {
		at, action = s.clock.Now(), "webhook.endpoint.disabled"
	}
	var out ports.WebhookEndpoint
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.WebhookEndpoints().Get(ctx, id)
		if err != nil {
			return err
		}
		if out, err = tx.WebhookEndpoints().SetDisabled(ctx, id, at); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, action, target(id), auditOf(before), auditOf(out))
	})
	if err != nil {
		return ports.WebhookEndpoint{}, fmt.Errorf("%s: %w", action, err)
	}
	return public(out), nil
}

// DeleteEndpoint removes the endpoint and, with it, its secret
// (access.WebhooksManage), audited as "webhook.endpoint.deleted" in the
// same unit of work; deliveries already queued for it are dropped.
// ErrNotFound for an endpoint that is not the caller's shop's.
func (s *Service) DeleteEndpoint(ctx context.Context, id ports.WebhookEndpointID) error {
	sc, err := s.policy.Require(ctx, access.WebhooksManage)
	if err != nil {
		return err
	}
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.WebhookEndpoints().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.WebhookEndpoints().Delete(ctx, id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, "webhook.endpoint.deleted", target(id), auditOf(before), nil)
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	return nil
}
