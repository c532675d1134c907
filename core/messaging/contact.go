package messaging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// NormalizePhone turns a phone number as people write it into E.164:
// spaces, dots, dashes and parentheses go; a leading "00" becomes "+"; a
// number without either is national and gets defaultCC ("1"), with a
// national trunk prefix (the "1" of "1 555 …" under "1", a leading "0"
// elsewhere) dropped. ErrInvalid for anything else, or for a national
// number when defaultCC is empty.
func NormalizePhone(raw, defaultCC string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(raw) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", ports.Invalid("phone", "must be a phone number such as +15551234567")
		}
	}
	s := b.String()
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(s, "00"):
		s = "+" + s[2:]
	case defaultCC == "":
		return "", ports.Invalid("phone", "must start with + and the country code")
	case defaultCC == "1" && len(s) == 11 && s[0] == '1':
		s = "+" + s
	case defaultCC != "1" && strings.HasPrefix(s, "0"):
		s = "+" + defaultCC + s[1:]
	default:
		s = "+" + defaultCC + s
	}
	if err := ports.ValidatePhone(s); err != nil {
		return "", err
	}
	return s, nil
}

// Address is how a caller names a contact: by ID, or by phone and/or
// e-mail (normalised here). With both a phone and an e-mail, the two are
// one contact from then on: consent withdrawn on one reaches the other.
type Address struct {
	Contact ports.ContactID
	Phone   string
	Email   string
	// TimeZone is the contact's IANA zone, if known; it is recorded.
	TimeZone string
}

// normalize checks and normalises the address's fields.
func (s *Service) normalize(a Address) (Address, error) {
	if a.Phone != "" {
		p, err := NormalizePhone(a.Phone, s.cfg.DefaultCountryCode)
		if err != nil {
			return Address{}, err
		}
		a.Phone = p
	}
	if a.Email != "" {
		a.Email = ports.NormalizeEmail(a.Email)
		if err := ports.ValidateEmail(a.Email); err != nil {
			return Address{}, err
		}
	}
	if a.TimeZone != "" {
		if _, err := time.LoadLocation(a.TimeZone); err != nil || ports.ValidateTimeZoneName(a.TimeZone) != nil {
			return Address{}, ports.Invalid("time_zone", "unknown IANA time zone")
		}
	}
	if a.Contact.IsZero() && a.Phone == "" && a.Email == "" {
		return Address{}, ports.Invalid("to", "needs a contact, a phone number or an e-mail address")
	}
	return a, nil
}

// resolve returns the contact a names in tx's shop, creating it when a
// names addresses no contact holds yet. A phone held by one contact and an
// e-mail held by another are merged into one (the phone's): the merged
// contact keeps every opt-out of both.
func (s *Service) resolve(ctx context.Context, tx ports.ShopTx, a Address) (ports.Contact, error) {
	r := tx.Consent()
	if !a.Contact.IsZero() {
		c, err := r.GetContact(ctx, a.Contact)
		if err != nil {
			return ports.Contact{}, err
		}
		return s.complete(ctx, tx, c, a)
	}
	byPhone, err := find(ctx, a.Phone, r.ContactByPhone)
	if err != nil {
		return ports.Contact{}, err
	}
	byEmail, err := find(ctx, a.Email, r.ContactByEmail)
	if err != nil {
		return ports.Contact{}, err
	}
	switch {
	case byPhone != nil && byEmail != nil && byPhone.ID != byEmail.ID:
		if byPhone.Email != "" || byEmail.Phone != "" {
			return ports.Contact{}, fmt.Errorf("%s and %s belong to contacts that each hold another address: %w", a.Phone, a.Email, ports.ErrConflict)
		}
		merged, err := r.MergeContacts(ctx, byPhone.ID, byEmail.ID)
		if err != nil {
			return ports.Contact{}, err
		}
		return s.complete(ctx, tx, merged, Address{TimeZone: a.TimeZone})
	case byPhone != nil:
		return s.complete(ctx, tx, *byPhone, a)
	case byEmail != nil:
		return s.complete(ctx, tx, *byEmail, a)
	}
	return r.CreateContact(ctx, ports.Contact{ID: ports.NewContactID(), Phone: a.Phone, Email: a.Email, TimeZone: a.TimeZone})
}

// complete adds to c the addresses and zone a names that c lacks.
// ErrConflict when a names a different phone or e-mail than c holds.
func (s *Service) complete(ctx context.Context, tx ports.ShopTx, c ports.Contact, a Address) (ports.Contact, error) {
	changed := false
	for _, f := range []struct {
		have *string
		want string
		name string
	}{{&c.Phone, a.Phone, "phone"}, {&c.Email, a.Email, "email"}} {
		switch {
		case f.want == "" || *f.have == f.want:
		case *f.have == "":
			*f.have, changed = f.want, true
		default:
			return ports.Contact{}, fmt.Errorf("the contact holds another %s: %w", f.name, ports.ErrConflict)
		}
	}
	if a.TimeZone != "" && a.TimeZone != c.TimeZone {
		c.TimeZone, changed = a.TimeZone, true
	}
	if !changed {
		return c, nil
	}
	return tx.Consent().UpdateContact(ctx, c)
}

// find looks an address up; nil when it is empty or nobody holds it.
func find(ctx context.Context, addr string, by func(context.Context, string) (ports.Contact, error)) (*ports.Contact, error) {
	if addr == "" {
		return nil, nil
	}
	c, err := by(ctx, addr)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &c, nil
}

// SaveContact records a contact of the caller's shop in tx (the caller's
// unit of work): creates it, completes it with the addresses and zone
// given, or merges a phone-only and an e-mail-only contact that a names
// together (access.MessagingSend). ErrConflict when a names addresses
// held by two contacts that each hold another.
func (s *Service) SaveContact(ctx context.Context, tx ports.ShopTx, a Address) (ports.Contact, error) {
	if _, err := s.requireIn(ctx, tx, access.MessagingSend); err != nil {
		return ports.Contact{}, err
	}
	a, err := s.normalize(a)
	if err != nil {
		return ports.Contact{}, err
	}
	c, err := s.resolve(ctx, tx, a)
	if err != nil {
		return ports.Contact{}, fmt.Errorf("save contact: %w", err)
	}
	return c, nil
}
