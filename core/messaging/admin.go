package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Settings returns the caller's shop's messaging settings, with the
// defaults filled in (access.MessagingRead).
func (s *Service) Settings(ctx context.Context) (ports.MessagingSettings, error) {
	sc, err := s.policy.Require(ctx, access.MessagingRead)
	if err != nil {
		return ports.MessagingSettings{}, err
	}
	var out ports.MessagingSettings
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.MessagingSettings().Get(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.MessagingSettings{}, fmt.Errorf("messaging settings: %w", err)
	}
	return s.withDefaults(out), nil
}

func (s *Service) withDefaults(st ports.MessagingSettings) ports.MessagingSettings {
	if st.SendFrom == 0 && st.SendUntil == 0 {
		st.SendFrom, st.SendUntil = s.cfg.SendFrom, s.cfg.SendUntil
	}
	return st
}

// settingsAudit is what a settings change's audit event holds.
type settingsAudit struct {
	MessagingServiceSID string `json:"messaging_service_sid"`
	HelpText            string `json:"help_text"`
	SendFrom            int    `json:"send_from"`
	SendUntil           int    `json:"send_until"`
	TimeZone            string `json:"time_zone"`
}

func auditSettings(st ports.MessagingSettings) settingsAudit {
	return settingsAudit{st.MessagingServiceSID, st.HelpText, st.SendFrom, st.SendUntil, st.TimeZone}
}

// SaveSettings replaces the caller's shop's messaging settings
// (access.MessagingManage), audited as "messaging.settings.changed" in
// the same unit of work. ErrInvalid for malformed settings or an unknown
// time zone, ErrConflict when another shop holds the Messaging Service.
func (s *Service) SaveSettings(ctx context.Context, in ports.MessagingSettings) (ports.MessagingSettings, error) {
	sc, err := s.policy.Require(ctx, access.MessagingManage)
	if err != nil {
		return ports.MessagingSettings{}, err
	}
	if err := in.Validate(); err != nil {
		return ports.MessagingSettings{}, err
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil {
			return ports.MessagingSettings{}, ports.Invalid("time_zone", "unknown IANA time zone")
		}
	}
	var out ports.MessagingSettings
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.MessagingSettings().Get(ctx)
		if err != nil {
			return err
		}
		if out, err = tx.MessagingSettings().Save(ctx, in); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, record{action: "messaging.settings.changed", target: "shop:" + sc.Shop.String(),
			before: auditSettings(before), after: auditSettings(out)})
	})
	if err != nil {
		return ports.MessagingSettings{}, fmt.Errorf("save messaging settings: %w", err)
	}
	return s.withDefaults(out), nil
}

// ListMessages lists the caller's shop's outbox (access.MessagingRead),
// oldest first.
func (s *Service) ListMessages(ctx context.Context, q ports.OutboxQuery) ([]ports.OutboxMessage, error) {
	sc, err := s.policy.Require(ctx, access.MessagingRead)
	if err != nil {
		return nil, err
	}
	var out []ports.OutboxMessage
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Outbox().List(ctx, q)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

// RetryMessage puts a dead or unknown message of the caller's shop back
// in the queue (access.MessagingManage), audited as
// "messaging.message.retried". Retrying an unknown message may send it a
// second time: that is the admin's call, and the event records it.
// ErrNotFound unless the message is dead or unknown.
func (s *Service) RetryMessage(ctx context.Context, id ports.MessageID) (ports.OutboxMessage, error) {
	sc, err := s.policy.Require(ctx, access.MessagingManage)
	if err != nil {
		return ports.OutboxMessage{}, err
	}
	var out ports.OutboxMessage
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.Outbox().Get(ctx, id)
		if err != nil {
			return err
		}
		if out, err = tx.Outbox().Retry(ctx, id, s.now()); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, record{action: "messaging.message.retried", target: "message:" + id.String(),
			before: map[string]any{"state": before.State, "attempts": before.Attempts, "last_error": before.LastError}})
	})
	if err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("retry message: %w", err)
	}
	return out, nil
}
