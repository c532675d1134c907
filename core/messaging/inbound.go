package messaging

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// InboundSMS is a text a contact sent to a shop, from a provider webhook
// whose signature the caller has verified (MSG-2).
type InboundSMS struct {
	Shop     ports.ShopID
	Provider string // "twilio"
	EventID  string // the provider's message ID (Twilio's MessageSid): replays are refused by it
	From     string // the sender's number
	Body     string
	// RequestID is the webhook request's, for the audit events.
	RequestID string
}

// InboundResult says what an inbound SMS did.
type InboundResult struct {
	Keyword Keyword
	// Replay is set when the event was applied before: nothing changed.
	Replay bool
	// Changed counts the consent topics that changed.
	Changed int
	// Reply is the HELP answer enqueued, if any.
	Reply *ports.OutboxMessage
}

// ReceiveSMS applies an inbound SMS in the shop's unit of work (MSG-3):
// the event is recorded by its ID first (a replay changes nothing and
// reports Replay), the sender becomes a contact if it was none, and the
// message's keyword is applied — an opt-out withdraws SMS and marketing
// consent (so marketing e-mail stops too), an opt-in restores both, HELP
// and INFO enqueue the shop's help text as a transactional reply (not to
// a number that has opted out: like Twilio's own handling, a contact who
// sent STOP hears nothing more until START). Consent changes are
// audited with source "keyword" by actor system:sms-keyword. Runs under no
// caller scope: the verified webhook is the credential.
func (s *Service) ReceiveSMS(ctx context.Context, in InboundSMS) (InboundResult, error) {
	from, err := NormalizePhone(in.From, "")
	if err != nil {
		return InboundResult{}, fmt.Errorf("inbound sms: from: %w", err)
	}
	res := InboundResult{Keyword: Classify(in.Body)}
	sc := access.Scope{Shop: in.Shop, System: "sms-keyword", RequestID: in.RequestID}
	var evs []events.Event
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Outbox().RecordEvent(ctx, in.Provider, in.EventID); err != nil {
			if errors.Is(err, ports.ErrConflict) {
				res.Replay = true
				return nil
			}
			return err
		}
		if res.Keyword == KeywordNone {
			return nil
		}
		contact, err := s.resolve(ctx, tx, Address{Phone: from})
		if err != nil {
			return err
		}
		switch res.Keyword {
		case KeywordOptOut:
			evs, err = s.apply(ctx, tx, sc, contact.ID, ports.SourceKeyword, "sms",
				change{ports.TopicSMS, true}, change{ports.TopicMarketing, true})
		case KeywordOptIn:
			evs, err = s.apply(ctx, tx, sc, contact.ID, ports.SourceKeyword, "sms",
				change{ports.TopicSMS, false}, change{ports.TopicMarketing, false})
		case KeywordHelp:
			if err := checkConsent(ctx, tx, contact.ID, ports.ChannelSMS, ports.CategoryTransactional); errors.Is(err, ports.ErrOptedOut) {
				return nil
			}
			reply, err := s.helpReply(ctx, tx, contact)
			if errors.Is(err, ports.ErrNoMessagingService) {
				s.log.WarnContext(ctx, "messaging: HELP not answered: the shop has no messaging service", "shop", in.Shop.String())
				return nil
			}
			res.Reply = &reply
			return err
		}
		return err
	})
	if err != nil {
		return InboundResult{}, fmt.Errorf("inbound sms: %w", err)
	}
	res.Changed = len(evs)
	s.events.After(ctx, evs...)
	return res, nil
}

// helpReply enqueues the shop's help text to contact.
func (s *Service) helpReply(ctx context.Context, tx ports.ShopTx, contact ports.Contact) (ports.OutboxMessage, error) {
	settings, err := tx.MessagingSettings().Get(ctx)
	if err != nil {
		return ports.OutboxMessage{}, err
	}
	text := settings.HelpText
	if text == "" {
		shop, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return ports.OutboxMessage{}, err
		}
		text = shop.Name + ": reply STOP to opt out, START to opt back in. Msg & data rates may apply."
	}
	return s.enqueue(ctx, tx, Message{Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
		To: Address{Contact: contact.ID}, Body: text})
}

// StatusReport is a provider's report on a message it accepted, from a
// verified webhook (MSG-2).
type StatusReport struct {
	Shop     ports.ShopID
	Provider string // "twilio", "resend"
	EventID  string // the provider's event ID (svix-id; MessageSid+status for Twilio)
	// Message names the message by our ID when the callback URL carries
	// it; otherwise ProviderID finds it.
	Message    ports.MessageID
	Channel    ports.Channel
	ProviderID string
	// Status is the provider's word ("delivered", "undelivered",
	// "email.bounced", …) and State what it means for the message: sent,
	// delivered or failed; an empty State records nothing on the message.
	Status string
	State  ports.MessageState
	// Complaint withdraws the contact's marketing consent (source
	// "provider"): a spam complaint.
	Complaint bool
	RequestID string
}

// ReportStatus applies a provider's status report in the shop's unit of
// work: recorded by event ID first (a replay changes nothing), then the
// message's state, and for a complaint the contact's marketing consent
// (audited, actor system:provider). ErrNotFound when the message is not
// the shop's (or not sent yet), which rolls the event back so that the
// provider's retry can apply it.
func (s *Service) ReportStatus(ctx context.Context, in StatusReport) (replay bool, err error) {
	sc := access.Scope{Shop: in.Shop, System: "provider:" + in.Provider, RequestID: in.RequestID}
	var evs []events.Event
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Outbox().RecordEvent(ctx, in.Provider, in.EventID); err != nil {
			if errors.Is(err, ports.ErrConflict) {
				replay = true
				return nil
			}
			return err
		}
		var m ports.OutboxMessage
		var err error
		if !in.Message.IsZero() {
			m, err = tx.Outbox().Get(ctx, in.Message)
		} else {
			m, err = tx.Outbox().ByProviderID(ctx, in.Channel, in.ProviderID)
		}
		if err != nil {
			return err
		}
		// A late "sent" never turns a delivered or failed message back,
		// and one that outruns our own mark has nothing to add.
		if in.State != "" && (in.State != ports.MessageSent || m.State == ports.MessageSent) {
			if _, err := tx.Outbox().ReportStatus(ctx, m.ID, in.Status, in.State); err != nil {
				return err
			}
		}
		if in.Complaint {
			evs, err = s.apply(ctx, tx, sc, m.Contact, ports.SourceProvider, string(m.Channel), change{ports.TopicMarketing, true})
			return err
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("status report: %w", err)
	}
	s.events.After(ctx, evs...)
	return replay, nil
}

// ShopByMessagingService returns the shop whose settings name the Twilio
// Messaging Service sid, for routing a verified inbound webhook.
// ErrNotFound when no shop does.
func (s *Service) ShopByMessagingService(ctx context.Context, sid string) (ports.ShopID, error) {
	var shop ports.ShopID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.MessagingDirectory().ShopByMessagingService(ctx, sid)
		return err
	}, ports.ReadOnly())
	return shop, err
}

// ShopByProviderMessage returns the shop of the message a provider knows
// as providerID on channel, for routing a verified status webhook.
// ErrNotFound when no shop's outbox holds it (yet).
func (s *Service) ShopByProviderMessage(ctx context.Context, channel ports.Channel, providerID string) (ports.ShopID, error) {
	var shop ports.ShopID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.MessagingDirectory().ShopByProviderMessage(ctx, channel, providerID)
		return err
	}, ports.ReadOnly())
	return shop, err
}
