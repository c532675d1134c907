package messaging

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Message is one message to enqueue.
type Message struct {
	Channel  ports.Channel
	Category ports.MessageCategory
	// To names the recipient. An SMS goes to its phone, an e-mail to its
	// address; the contact is created (or completed) on the way.
	To Address
	// Body is the SMS text, or the e-mail's plain-text body.
	Body string
	// Subject, HTML, From and ReplyTo are for e-mail (From defaults to
	// Config.EmailFrom).
	Subject string
	HTML    string
	From    string
	ReplyTo string
	// MaxAttempts bounds the delivery attempts (0: ports.DefaultMaxAttempts).
	MaxAttempts int
}

// Enqueue puts a message in the outbox of the caller's shop inside tx,
// the caller's unit of work: the message commits with the business change
// that causes it, or not at all (MSG-6). It needs access.MessagingSend
// and a scope bound to tx's shop.
//
// Consent is checked first (MSG-4): ErrOptedOut (wrapped) when the
// contact has withdrawn the channel, or marketing for a marketing
// message. A marketing SMS needs the shop's own Twilio Messaging Service
// (ports.ErrNoMessagingService otherwise) and is held until the
// recipient's sending window opens (quiet hours; HeldFor says so). A
// marketing e-mail carries RFC 8058 one-click unsubscribe headers with a
// token bound to the shop and the contact. ErrInvalid for a malformed
// message.
func (s *Service) Enqueue(ctx context.Context, tx ports.ShopTx, m Message) (ports.OutboxMessage, error) {
	if _, err := s.requireIn(ctx, tx, access.MessagingSend); err != nil {
		return ports.OutboxMessage{}, err
	}
	out, err := s.enqueue(ctx, tx, m)
	if err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("enqueue %s: %w", m.Channel, err)
	}
	return out, nil
}

// Send is Enqueue in a unit of work of its own, for a message that no
// business change goes with.
func (s *Service) Send(ctx context.Context, m Message) (ports.OutboxMessage, error) {
	sc, err := s.policy.Require(ctx, access.MessagingSend)
	if err != nil {
		return ports.OutboxMessage{}, err
	}
	var out ports.OutboxMessage
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = s.Enqueue(ctx, tx, m)
		return err
	})
	return out, err
}

// enqueue checks consent, then builds and stores the message.
func (s *Service) enqueue(ctx context.Context, tx ports.ShopTx, m Message) (ports.OutboxMessage, error) {
	if err := ports.ValidateChannel(m.Channel); err != nil {
		return ports.OutboxMessage{}, err
	}
	if err := ports.ValidateCategory(m.Category); err != nil {
		return ports.OutboxMessage{}, err
	}
	to, err := s.normalize(m.To)
	if err != nil {
		return ports.OutboxMessage{}, err
	}
	if m.Channel == ports.ChannelSMS && to.Phone == "" && to.Contact.IsZero() {
		return ports.OutboxMessage{}, ports.Invalid("to", "an SMS needs a phone number")
	}
	if m.Channel == ports.ChannelEmail && to.Email == "" && to.Contact.IsZero() {
		return ports.OutboxMessage{}, ports.Invalid("to", "an e-mail needs an address")
	}
	contact, err := s.resolve(ctx, tx, to)
	if err != nil {
		return ports.OutboxMessage{}, err
	}
	if err := checkConsent(ctx, tx, contact.ID, m.Channel, m.Category); err != nil {
		return ports.OutboxMessage{}, err
	}
	// Due now by the service's clock, which the worker claims by too.
	msg := ports.OutboxMessage{ID: ports.NewMessageID(), Contact: contact.ID, Channel: m.Channel, Category: m.Category,
		MaxAttempts: m.MaxAttempts, RunAt: s.now()}
	key := msg.ID.String()
	switch m.Channel {
	case ports.ChannelSMS:
		if contact.Phone == "" {
			return ports.OutboxMessage{}, ports.Invalid("to", "the contact has no phone number")
		}
		settings, err := tx.MessagingSettings().Get(ctx)
		if err != nil {
			return ports.OutboxMessage{}, err
		}
		sid := settings.MessagingServiceSID
		if sid == "" && m.Category == ports.CategoryTransactional {
			sid = s.cfg.DefaultMessagingServiceSID
		}
		if sid == "" {
			return ports.OutboxMessage{}, ports.ErrNoMessagingService
		}
		msg.SMS = ports.SMS{MessagingServiceSID: sid, To: contact.Phone, Body: m.Body, IdempotencyKey: key, Category: m.Category}
		if s.cfg.StatusCallbackURL != nil {
			msg.SMS.StatusCallback = s.cfg.StatusCallbackURL(tx.ShopID(), msg.ID)
		}
		if m.Category == ports.CategoryMarketing {
			now := s.now()
			if at := s.sendWindow(settings, contact).next(now); at.After(now) {
				msg.RunAt, msg.HeldFor = at, heldForQuietHours
			}
		}
	case ports.ChannelEmail:
		if contact.Email == "" {
			return ports.OutboxMessage{}, ports.Invalid("to", "the contact has no e-mail address")
		}
		from := m.From
		if from == "" {
			from = s.cfg.EmailFrom
		}
		msg.Email = ports.Email{From: from, To: contact.Email, ReplyTo: m.ReplyTo, Subject: m.Subject, Text: m.Body, HTML: m.HTML, IdempotencyKey: key}
		if m.Category == ports.CategoryMarketing {
			if msg.Email.Headers, err = s.unsubscribeHeaders(ctx, tx, contact.ID); err != nil {
				return ports.OutboxMessage{}, err
			}
		}
	}
	return tx.Outbox().Enqueue(ctx, msg)
}

// unsubscribeHeaders are RFC 8058's two headers for a marketing e-mail to
// contact: an https URL with a signed token, and the one-click marker.
func (s *Service) unsubscribeHeaders(ctx context.Context, tx ports.ShopTx, contact ports.ContactID) (map[string]string, error) {
	if s.cfg.UnsubscribeURL == nil {
		return nil, fmt.Errorf("marketing e-mail needs the unsubscribe URL configured: %w", ports.ErrUnavailable)
	}
	token, err := s.unsubscribeToken(tx.ShopID(), contact)
	if err != nil {
		return nil, err
	}
	shop, err := tx.ThisShop().Get(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"List-Unsubscribe":      "<" + s.cfg.UnsubscribeURL(shop, token) + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}, nil
}
