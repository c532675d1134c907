package messaging

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// An unsubscribe token (MSG-5) is base64url (no padding) of the contact's
// ID (16 bytes) followed by HMAC-SHA256 under an unsubscribe key over a
// domain label, the shop's ID and the contact's ID. It is bound to shop
// and contact: edit any byte, or present it on another shop's host, and
// no key verifies it. It does not expire (a link in a mail must keep
// working: CAN-SPAM asks for 30 days at least) and is not single-use
// (unsubscribing twice changes nothing).
const (
	tokenLabel = "stockade/unsubscribe/v1\x00"
	tokenRaw   = 16 + sha256.Size
)

// errBadUnsubscribe is the one answer for every token that does not
// verify, whatever is wrong with it.
var errBadUnsubscribe = fmt.Errorf("unsubscribe link is invalid: %w", ports.ErrNotFound)

func unsubscribeMAC(key []byte, shop ports.ShopID, contact ports.ContactID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenLabel))
	m.Write(shop.UUID[:])
	m.Write(contact.UUID[:])
	return m.Sum(nil)
}

// unsubscribeToken signs a token for contact of shop with the first key.
func (s *Service) unsubscribeToken(shop ports.ShopID, contact ports.ContactID) (string, error) {
	if len(s.cfg.UnsubscribeKeys) == 0 {
		return "", fmt.Errorf("marketing e-mail needs an unsubscribe key: %w", ports.ErrUnavailable)
	}
	raw := append(contact.UUID[:len(contact.UUID):len(contact.UUID)], unsubscribeMAC(s.cfg.UnsubscribeKeys[0], shop, contact)...)
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// verifyToken returns the contact a token names for shop, comparing MACs
// in constant time under every key; errBadUnsubscribe otherwise.
func (s *Service) verifyToken(shop ports.ShopID, token string) (ports.ContactID, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenRaw) || strings.ContainsAny(token, "=+/") {
		return ports.ContactID{}, errBadUnsubscribe
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenRaw {
		return ports.ContactID{}, errBadUnsubscribe
	}
	var contact ports.ContactID
	copy(contact.UUID[:], raw[:16])
	ok := false
	for _, key := range s.cfg.UnsubscribeKeys {
		if hmac.Equal(raw[16:], unsubscribeMAC(key, shop, contact)) {
			ok = true
		}
	}
	if !ok || contact.IsZero() {
		return ports.ContactID{}, errBadUnsubscribe
	}
	return contact, nil
}

// UnsubscribeRequest is a one-click unsubscribe (RFC 8058) as it arrived:
// the shop whose host it was posted to, the token from the URL, and the
// client for the audit event.
type UnsubscribeRequest struct {
	Shop      ports.ShopID
	Token     string
	IP        string
	UserAgent string
	RequestID string
}

// UnsubscribePage is what the confirmation page shows.
type UnsubscribePage struct {
	ShopName string
	// Email is the contact's address, masked ("a***@example.com").
	Email string
	// Already is set when the contact has withdrawn marketing already.
	Already bool
}

// PreviewUnsubscribe verifies a token and returns what the confirmation
// page (GET) shows. It changes nothing: mail scanners follow links.
// ErrNotFound for a token that does not verify for shop, or whose contact
// is gone.
func (s *Service) PreviewUnsubscribe(ctx context.Context, shop ports.ShopID, token string) (UnsubscribePage, error) {
	contact, err := s.verifyToken(shop, token)
	if err != nil {
		return UnsubscribePage{}, err
	}
	var out UnsubscribePage
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		st, err := state(ctx, tx, contact)
		if err != nil {
			return err
		}
		sh, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return err
		}
		out = UnsubscribePage{ShopName: sh.Name, Email: maskEmail(st.Contact.Email), Already: st.OptedOut(ports.TopicMarketing)}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return UnsubscribePage{}, fmt.Errorf("unsubscribe: %w", err)
	}
	return out, nil
}

// Unsubscribe withdraws the token's contact's marketing consent on every
// channel (MSG-4, MSG-5): the one-click POST, no sign-in. The change and
// its audit event ("messaging.consent.withdrawn", source "link", actor
// system:unsubscribe-link) commit together; a contact already opted out
// is left as it is. ErrNotFound for a token that does not verify for the
// shop (edited, another shop's, another contact's) or whose contact is
// gone.
func (s *Service) Unsubscribe(ctx context.Context, in UnsubscribeRequest) error {
	contact, err := s.verifyToken(in.Shop, in.Token)
	if err != nil {
		return err
	}
	sc := access.Scope{Shop: in.Shop, System: "unsubscribe-link", IP: in.IP, UserAgent: in.UserAgent, RequestID: in.RequestID}
	var evs []events.Event
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Consent().GetContact(ctx, contact); err != nil {
			return err
		}
		var err error
		evs, err = s.apply(ctx, tx, sc, contact, ports.SourceLink, "email", change{ports.TopicMarketing, true})
		return err
	})
	if err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	s.events.After(ctx, evs...)
	return nil
}

// maskEmail keeps an address's first letter and domain.
func maskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return ""
	}
	return email[:1] + "***" + email[at:]
}
