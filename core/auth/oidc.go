package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// OIDCStateCookieName holds one OpenID Connect sign-in's state, nonce and
// PKCE verifier between the redirect and the callback.
const OIDCStateCookieName = "__Host-stockade_oidc"

// oidcStateTTL is how long a started OpenID Connect sign-in may take.
const oidcStateTTL = 10 * time.Minute

const oidcDomain = "stockade/oidc-state/v1"

var errBadOIDCState = fmt.Errorf("sign-in state is missing, expired or does not match; start again: %w", ports.ErrUnauthenticated)

// oidcState is the signed content of the state cookie.
type oidcState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"` // Unix seconds
}

// Providers returns the names of the configured identity providers.
func (s *Service) Providers() []string {
	names := make([]string, 0, len(s.providers))
	for n := range s.providers {
		names = append(names, n)
	}
	return names
}

// StartOIDC begins a sign-in with the named provider on shop's host
// (AUTH-5). It returns the provider URL to redirect the browser to and the
// value of the state cookie to set: fresh random state, nonce and PKCE
// verifier (S256), signed with the server key together with the shop ID
// and valid for ten minutes. ErrNotFound for an unknown provider.
func (s *Service) StartOIDC(ctx context.Context, shop ports.ShopID, provider, redirectURL string) (authURL, stateCookie string, err error) {
	p, ok := s.providers[provider]
	if !ok {
		return "", "", fmt.Errorf("identity provider %q: %w", provider, ports.ErrNotFound)
	}
	st := oidcState{
		Provider: provider,
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: base64.RawURLEncoding.EncodeToString(newToken()), // 43 characters, RFC 7636
		Expires:  s.clock.Now().Add(oidcStateTTL).Unix(),
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	kid, sum := s.keys.sign(oidcDomain, shop.UUID[:], payload)
	enc := base64.RawURLEncoding
	cookie := strings.Join([]string{cookieVersion, kid, enc.EncodeToString(payload), enc.EncodeToString(sum)}, ".")
	return p.AuthURL(ports.AuthRequest{State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, redirectURL), cookie, nil
}

// readOIDCState verifies and decodes a state cookie for shop and provider.
func (s *Service) readOIDCState(shop ports.ShopID, provider, cookie string) (oidcState, error) {
	parts := strings.Split(cookie, ".")
	if len(cookie) > 1024 || len(parts) != 4 || parts[0] != cookieVersion {
		return oidcState{}, errBadOIDCState
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(parts[2])
	sum, err2 := enc.DecodeString(parts[3])
	if errors.Join(err1, err2) != nil || !s.keys.verify(parts[1], sum, oidcDomain, shop.UUID[:], payload) {
		return oidcState{}, errBadOIDCState
	}
	var st oidcState
	if err := json.Unmarshal(payload, &st); err != nil || st.Provider != provider || s.clock.Now().Unix() >= st.Expires {
		return oidcState{}, errBadOIDCState
	}
	return st, nil
}

// OIDCCallback is the provider's redirect back to the shop's host.
type OIDCCallback struct {
	Shop        ports.ShopID
	Provider    string
	Code        string
	State       string // the state query parameter
	StateCookie string // the value of OIDCStateCookieName
	RedirectURL string // the same redirect URL StartOIDC was given
	Client      Client
	Replace     string // session cookie presented, if any
}

// FinishOIDC completes an OpenID Connect sign-in: it checks the state
// cookie and the returned state (constant time), redeems the code with the
// PKCE verifier, has the provider verify the ID token and its nonce, finds
// or links the user, and creates a session when the user is a member of
// the shop. An identity is linked to an existing account with the same
// e-mail only when the provider asserts email_verified; a new account is
// created only then too. Refusals match ports.ErrUnauthenticated; an
// address that the shop's org's mandatory single sign-on covers (AUTH-14)
// is refused with *SSORequiredError (ports.ErrForbidden).
func (s *Service) FinishOIDC(ctx context.Context, in OIDCCallback) (Issued, error) {
	c := in.Client.clean()
	p, ok := s.providers[in.Provider]
	if !ok {
		return Issued{}, fmt.Errorf("identity provider %q: %w", in.Provider, ports.ErrNotFound)
	}
	st, err := s.readOIDCState(in.Shop, in.Provider, in.StateCookie)
	if err != nil {
		return Issued{}, err
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(in.State)) != 1 {
		return Issued{}, errBadOIDCState
	}
	id, err := p.Exchange(ctx, in.Code, ports.AuthRequest{State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, in.RedirectURL)
	if err != nil {
		return Issued{}, fmt.Errorf("sign in with %s: %w", in.Provider, err)
	}
	// An org's mandatory single sign-on covers the platform's providers
	// too (AUTH-14): its addresses sign in through the org's IdP.
	if err := s.requireNoSSO(ctx, in.Shop, ports.NormalizeEmail(id.Email)); err != nil {
		return Issued{}, err
	}
	user, err := s.linkIdentity(ctx, id, c)
	if err != nil {
		return Issued{}, err
	}
	var out Issued
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Get(ctx, user); errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("this account is not a member of this shop: %w", ports.ErrUnauthenticated)
		} else if err != nil {
			return err
		}
		out, err = s.mintSession(ctx, tx, user, MethodOIDC, c, in.Replace)
		return err
	})
	if err != nil {
		return Issued{}, fmt.Errorf("sign in with %s: %w", in.Provider, err)
	}
	if err := s.assess(ctx, &out.Principal); err != nil {
		return Issued{}, fmt.Errorf("sign in with %s: %w", in.Provider, err)
	}
	return out, nil
}

// linkIdentity returns the user an external identity signs in as: the one
// already linked, or — only when the provider verified the e-mail — the
// user with that e-mail (linked now), or a new user (created and linked).
//
// A verified e-mail is a mailbox proof (AUTH-16): for an account never
// verified it is the first one, which removes the password and identity
// links set before it and ends the account's sessions everywhere before
// this identity is linked (again).
func (s *Service) linkIdentity(ctx context.Context, id ports.ExternalIdentity, c Client) (ports.UserID, error) {
	var user ports.UserID
	var first bool
	var created ports.User // the account this sign-in created, if it did
	var shops []ports.ShopID
	now := s.clock.Now()
	email := ports.NormalizeEmail(id.Email)
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		link, err := tx.Identities().Get(ctx, id.Issuer, id.Subject)
		linked := err == nil
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		if !linked && !id.EmailVerified {
			return fmt.Errorf("the provider has not verified this e-mail address, so it cannot be linked to an account: %w", ports.ErrUnauthenticated)
		}
		var u ports.User
		if linked {
			u, err = tx.Users().Get(ctx, link.UserID)
		} else {
			u, err = tx.Users().GetByEmail(ctx, email)
			if errors.Is(err, ports.ErrNotFound) {
				u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: strings.TrimSpace(id.Name), VerifiedAt: now})
				created = u
			}
		}
		if err != nil {
			return err
		}
		user = u.ID
		if u.VerifiedAt.IsZero() && id.EmailVerified && email == u.Email {
			if first, err = proveMailbox(ctx, tx, u.ID, now); err != nil {
				return err
			}
			if first {
				linked = false // the proof removed every earlier link, this one too
				if shops, err = tx.Users().Shops(ctx, u.ID); err != nil {
					return err
				}
			}
		}
		if linked {
			return nil
		}
		_, err = tx.Identities().Link(ctx, ports.Identity{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, Email: email})
		return err
	})
	if err != nil {
		return ports.UserID{}, fmt.Errorf("link identity: %w", err)
	}
	if first {
		s.auditInShops(ctx, user, shops, ports.SessionID{}, c, provenEvent(user))
	}
	if !created.ID.IsZero() {
		s.signedUp(ctx, created, "oidc")
	}
	return user, nil
}
