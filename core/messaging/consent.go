package messaging

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// topicsFor lists the consent topics a message on channel of category
// needs, the channel's own first.
func topicsFor(channel ports.Channel, category ports.MessageCategory) []ports.ConsentTopic {
	out := []ports.ConsentTopic{ports.TopicEmail}
	if channel == ports.ChannelSMS {
		out[0] = ports.TopicSMS
	}
	if category == ports.CategoryMarketing {
		out = append(out, ports.TopicMarketing)
	}
	return out
}

// consentTx is the part of a unit of work the consent reads need.
type consentTx interface{ Consent() ports.ConsentRepo }

// checkConsent returns an error matching ports.ErrOptedOut when contact
// has withdrawn a topic a message on channel of category needs.
func checkConsent(ctx context.Context, tx consentTx, contact ports.ContactID, channel ports.Channel, category ports.MessageCategory) error {
	records, err := tx.Consent().Consent(ctx, contact)
	if err != nil {
		return err
	}
	return consentRefusal(records, contact, channel, category)
}

// consentRefusal is checkConsent's verdict on records, contact's consent
// records as read: an error matching ports.ErrOptedOut when contact has
// withdrawn a topic a message on channel of category needs, else nil.
func consentRefusal(records []ports.Consent, contact ports.ContactID, channel ports.Channel, category ports.MessageCategory) error {
	for _, topic := range topicsFor(channel, category) {
		for _, r := range records {
			if r.Topic == topic && r.OptedOut {
				return fmt.Errorf("contact %s withdrew %s consent (%s): %w", contact, topic, r.Source, ports.ErrOptedOut)
			}
		}
	}
	return nil
}

// change is one consent change to record.
type change struct {
	topic    ports.ConsentTopic
	optedOut bool
}

// consentAudit is what a consent change's audit event holds.
type consentAudit struct {
	Topic    ports.ConsentTopic  `json:"topic"`
	OptedOut bool                `json:"opted_out"`
	Source   ports.ConsentSource `json:"source"`
	Via      string              `json:"via,omitempty"` // the channel or route it arrived by
}

// apply records changes for contact from source in tx and audits each
// one that changes the state ("messaging.consent.withdrawn" or
// "messaging.consent.given", before/after with the source), recording a
// consent.changed event for each (its webhooks are enqueued in tx). A
// change to the state already recorded is neither written, audited nor
// published. It returns the events, one per change, for After once tx
// has committed.
func (s *Service) apply(ctx context.Context, tx ports.ShopTx, sc access.Scope, contact ports.ContactID, source ports.ConsentSource, via string, changes ...change) ([]events.Event, error) {
	var out []events.Event
	current, err := tx.Consent().Consent(ctx, contact)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		var prev ports.Consent
		for _, r := range current {
			if r.Topic == c.topic {
				prev = r
			}
		}
		if prev.OptedOut == c.optedOut {
			continue // never withdrawn counts as given
		}
		before, stored, err := tx.Consent().SetConsent(ctx, ports.Consent{Contact: contact, Topic: c.topic, OptedOut: c.optedOut, Source: source})
		if err != nil {
			return nil, err
		}
		action := "messaging.consent.given"
		if stored.OptedOut {
			action = "messaging.consent.withdrawn"
		}
		var was any
		if before.Source != "" {
			was = consentAudit{Topic: before.Topic, OptedOut: before.OptedOut, Source: before.Source}
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: action, target: "contact:" + contact.String(), before: was,
			after: consentAudit{Topic: stored.Topic, OptedOut: stored.OptedOut, Source: source, Via: via}}); err != nil {
			return nil, err
		}
		ev, err := s.events.Record(ctx, tx, events.ConsentChanged{Contact: contact.String(), Topic: string(stored.Topic),
			OptedOut: stored.OptedOut, Source: string(source), Via: via})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// ConsentState is a contact with its consent.
type ConsentState struct {
	Contact ports.Contact
	Records []ports.Consent
}

// OptedOut reports whether the contact has withdrawn topic.
func (c ConsentState) OptedOut(topic ports.ConsentTopic) bool {
	for _, r := range c.Records {
		if r.Topic == topic {
			return r.OptedOut
		}
	}
	return false
}

// ConsentChange is an admin's or the application's change to a contact's
// consent.
type ConsentChange struct {
	Contact  ports.ContactID
	Topic    ports.ConsentTopic
	OptedOut bool
	// Source is ports.SourceAdmin (a member, through the HTTP API or the
	// CLI) or ports.SourceAPI (the embedding application); other sources
	// arrive by their own routes.
	Source ports.ConsentSource
}

// SetConsent records a consent change for a contact of the caller's shop
// (access.MessagingManage), audited with its source in the same unit of
// work. Withdrawing marketing on one channel withdraws it on every channel
// (it is one topic). A change publishes consent.changed (webhooks in the
// unit of work, hooks after it). ErrInvalid for a bad topic or a source
// other than admin or api, ErrNotFound for an unknown contact. Returns
// the contact's consent after the change.
func (s *Service) SetConsent(ctx context.Context, in ConsentChange) (ConsentState, error) {
	sc, err := s.policy.Require(ctx, access.MessagingManage)
	if err != nil {
		return ConsentState{}, err
	}
	if err := ports.ValidateConsentTopic(in.Topic); err != nil {
		return ConsentState{}, err
	}
	if in.Source != ports.SourceAdmin && in.Source != ports.SourceAPI {
		return ConsentState{}, ports.Invalid("source", "must be admin or api")
	}
	var out ConsentState
	var evs []events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if evs, err = s.apply(ctx, tx, sc, in.Contact, in.Source, string(in.Source), change{in.Topic, in.OptedOut}); err != nil {
			return err
		}
		out, err = state(ctx, tx, in.Contact)
		return err
	})
	if err != nil {
		return ConsentState{}, fmt.Errorf("set consent: %w", err)
	}
	s.events.After(ctx, evs...)
	return out, nil
}

// Consent returns a contact of the caller's shop with its consent
// (access.MessagingRead). ErrNotFound for an unknown contact.
func (s *Service) Consent(ctx context.Context, contact ports.ContactID) (ConsentState, error) {
	sc, err := s.policy.Require(ctx, access.MessagingRead)
	if err != nil {
		return ConsentState{}, err
	}
	var out ConsentState
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = state(ctx, tx, contact)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ConsentState{}, fmt.Errorf("consent: %w", err)
	}
	return out, nil
}

// ListContacts lists the caller's shop's contacts with their consent, in
// ID order after the cursor after (access.MessagingRead).
func (s *Service) ListContacts(ctx context.Context, after ports.ContactID, limit int) ([]ConsentState, error) {
	sc, err := s.policy.Require(ctx, access.MessagingRead)
	if err != nil {
		return nil, err
	}
	var out []ConsentState
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		cs, err := tx.Consent().ListContacts(ctx, after, limit)
		if err != nil {
			return err
		}
		for _, c := range cs {
			rs, err := tx.Consent().Consent(ctx, c.ID)
			if err != nil {
				return err
			}
			out = append(out, ConsentState{Contact: c, Records: rs})
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return out, nil
}

// FindContact returns the contact of the caller's shop holding a phone
// number or an e-mail address, with its consent (access.MessagingRead).
func (s *Service) FindContact(ctx context.Context, phoneOrEmail string) (ConsentState, error) {
	sc, err := s.policy.Require(ctx, access.MessagingRead)
	if err != nil {
		return ConsentState{}, err
	}
	var a Address
	if isEmail(phoneOrEmail) {
		a.Email = phoneOrEmail
	} else {
		a.Phone = phoneOrEmail
	}
	if a, err = s.normalize(a); err != nil {
		return ConsentState{}, err
	}
	var out ConsentState
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var c ports.Contact
		var err error
		if a.Email != "" {
			c, err = tx.Consent().ContactByEmail(ctx, a.Email)
		} else {
			c, err = tx.Consent().ContactByPhone(ctx, a.Phone)
		}
		if err != nil {
			return err
		}
		out, err = state(ctx, tx, c.ID)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ConsentState{}, fmt.Errorf("find contact: %w", err)
	}
	return out, nil
}

func isEmail(s string) bool {
	for _, r := range s {
		if r == '@' {
			return true
		}
	}
	return false
}

func state(ctx context.Context, tx consentTx, contact ports.ContactID) (ConsentState, error) {
	c, err := tx.Consent().GetContact(ctx, contact)
	if err != nil {
		return ConsentState{}, err
	}
	rs, err := tx.Consent().Consent(ctx, contact)
	if err != nil {
		return ConsentState{}, err
	}
	return ConsentState{Contact: c, Records: rs}, nil
}
