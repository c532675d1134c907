package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// MethodSSO is the session method of a sign-in through an org's single
// sign-on connection (AUTH-14).
const MethodSSO = "sso"

// SSOStateCookieName holds one SSO sign-in's state, nonce and PKCE
// verifier, and the connection it started with, between the redirect and
// the callback.
const SSOStateCookieName = "__Host-stockade_sso"

const ssoStateDomain = "stockade/sso-state/v1"

var (
	errBadSSOState = fmt.Errorf("single sign-on state is missing, expired or does not match; start again: %w", ports.ErrUnauthenticated)
	// errNoSSO answers a start for an address whose domain the shop's org
	// has not verified, or whose org has no enabled connection.
	errNoSSO = fmt.Errorf("single sign-on is not available for this address here: %w", ports.ErrNotFound)
	// errLinkedElsewhere rolls back ssoUser's unit of work when the IdP
	// identity is linked to another account.
	errLinkedElsewhere = errors.New("the identity is linked to another account")
)

// SSORequiredError refuses a password or magic-link sign-in for an address
// of a domain whose org has made single sign-on mandatory (AUTH-14). It
// matches ports.ErrForbidden.
type SSORequiredError struct {
	Domain string
}

func (e *SSORequiredError) Error() string {
	return "this organisation requires single sign-on for " + e.Domain + " addresses: sign in with POST /auth/sso/start"
}

// Unwrap makes the error match ports.ErrForbidden.
func (e *SSORequiredError) Unwrap() error { return ports.ErrForbidden }

// ssoState is the signed content of the SSO state cookie.
type ssoState struct {
	Org      string `json:"o"`
	Issuer   string `json:"i"`
	ClientID string `json:"c"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"` // Unix seconds
}

// ssoPlan is what the directory says about an address on a shop.
type ssoPlan struct {
	conn ports.SSOConnection // zero OrgID: no SSO for the address here
	// exempt is set when the address is the connection's break-glass
	// owner, still an owner of the org.
	exempt bool
}

// ssoFor reads, in one read-only global unit of work, the enabled
// connection of shop's org when that org has verified email's domain, and
// whether email is the connection's break-glass owner.
func (s *Service) ssoFor(ctx context.Context, shop ports.ShopID, email string) (ssoPlan, error) {
	domain := ports.EmailDomain(email)
	if domain == "" {
		return ssoPlan{}, nil
	}
	var plan ssoPlan
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.OrgDomains().VerifiedBy(ctx, domain)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		sh, err := tx.Shops().Get(ctx, shop)
		if err != nil || sh.OrgID != org {
			return err
		}
		conn, err := tx.SSOConnections().Get(ctx, org)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		} else if err != nil || !conn.Enabled {
			return err
		}
		plan.conn = conn
		if conn.BreakGlass.IsZero() || !conn.Mandatory {
			return nil
		}
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) || (err == nil && u.ID != conn.BreakGlass) {
			return nil
		} else if err != nil {
			return err
		}
		m, err := tx.OrgMembers().Get(ctx, org, u.ID)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		plan.exempt = m.Role == ports.OrgOwner
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return ssoPlan{}, fmt.Errorf("read single sign-on: %w", err)
	}
	return plan, nil
}

// requireNoSSO refuses (SSORequiredError) a password, magic-link or passkey sign-in
// on shop for email when the shop's org has verified email's domain and
// made its enabled connection mandatory, unless email is the
// connection's break-glass owner (still an owner of the org).
func (s *Service) requireNoSSO(ctx context.Context, shop ports.ShopID, email string) error {
	plan, err := s.ssoFor(ctx, shop, email)
	if err != nil {
		return err
	}
	if !plan.conn.OrgID.IsZero() && plan.conn.Mandatory && !plan.exempt {
		return &SSORequiredError{Domain: ports.EmailDomain(email)}
	}
	return nil
}

// requireNoSSOFor is requireNoSSO for a user known by ID (a passkey's
// owner).
func (s *Service) requireNoSSOFor(ctx context.Context, shop ports.ShopID, user ports.UserID) error {
	var email string
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().Get(ctx, user)
		email = u.Email
		return err
	})
	if err != nil {
		return err
	}
	return s.requireNoSSO(ctx, shop, email)
}

// SSOStart is a single sign-on attempt on one shop's host.
type SSOStart struct {
	Shop  ports.ShopID
	Email string
	// RedirectURL is the shop's callback URL, built from configuration.
	RedirectURL string
	Client      Client
}

// StartSSO begins a single sign-on for an e-mail address on a shop's host
// (AUTH-14): when the shop's org has verified the address's domain and has
// an enabled connection, it returns that IdP's authorization URL and the
// state cookie's value: fresh state, nonce and PKCE verifier, with the
// org, issuer and client ID, signed with the server key together with the
// shop's ID and valid ten minutes. Otherwise ErrNotFound (the answer says
// only that SSO is not offered for the address here). Starts are charged
// to the client address's sign-in counter (ErrRateLimited over it).
func (s *Service) StartSSO(ctx context.Context, in SSOStart) (authURL, stateCookie string, err error) {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	if err := ports.ValidateEmail(email); err != nil {
		return "", "", err
	}
	if err := s.charge(ctx, in.Shop, c, "sso", ipLimit("sso", c.IP, s.cfg.Limits.PerIP)); err != nil {
		return "", "", err
	}
	plan, err := s.ssoFor(ctx, in.Shop, email)
	if err != nil {
		return "", "", err
	}
	if plan.conn.OrgID.IsZero() {
		return "", "", errNoSSO
	}
	p, err := s.ssoProvider(ctx, plan.conn)
	if err != nil {
		return "", "", fmt.Errorf("start single sign-on: %w", err)
	}
	st := ssoState{
		Org: plan.conn.OrgID.String(), Issuer: plan.conn.Issuer, ClientID: plan.conn.ClientID,
		State: rand.Text(), Nonce: rand.Text(),
		Verifier: base64.RawURLEncoding.EncodeToString(newToken()),
		Expires:  s.clock.Now().Add(oidcStateTTL).Unix(),
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	kid, sum := s.keys.sign(ssoStateDomain, in.Shop.UUID[:], payload)
	enc := base64.RawURLEncoding
	cookie := strings.Join([]string{cookieVersion, kid, enc.EncodeToString(payload), enc.EncodeToString(sum)}, ".")
	return p.AuthURL(ports.AuthRequest{State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, in.RedirectURL), cookie, nil
}

// readSSOState verifies and decodes an SSO state cookie for shop.
func (s *Service) readSSOState(shop ports.ShopID, cookie string) (ssoState, error) {
	parts := strings.Split(cookie, ".")
	if len(cookie) > 2048 || len(parts) != 4 || parts[0] != cookieVersion {
		return ssoState{}, errBadSSOState
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(parts[2])
	sum, err2 := enc.DecodeString(parts[3])
	if errors.Join(err1, err2) != nil || !s.keys.verify(parts[1], sum, ssoStateDomain, shop.UUID[:], payload) {
		return ssoState{}, errBadSSOState
	}
	var st ssoState
	if err := json.Unmarshal(payload, &st); err != nil || s.clock.Now().Unix() >= st.Expires {
		return ssoState{}, errBadSSOState
	}
	return st, nil
}

// SSOCallback is the org IdP's redirect back to the shop's host.
type SSOCallback struct {
	Shop        ports.ShopID
	Code        string
	State       string // the state query parameter
	StateCookie string // the value of SSOStateCookieName
	RedirectURL string // the same redirect URL StartSSO was given
	Client      Client
	Replace     string // session cookie presented, if any
}

// ssoRefusal is a refused callback: audited with its reason in the shop's
// log, answered as ErrUnauthenticated.
func (s *Service) ssoRefusal(ctx context.Context, shop ports.ShopID, c Client, org ports.OrgID, reason string) error {
	s.auditAlone(ctx, shop, c, event{
		actor: "anonymous", action: ActionSSOSignInDenied, target: "org:" + org.String(), outcome: ports.OutcomeDenied,
		after: map[string]string{"reason": reason},
	})
	return fmt.Errorf("single sign-on refused: %s: %w", reason, ports.ErrUnauthenticated)
}

// FinishSSO completes a single sign-on (AUTH-14). It checks the state
// cookie (MAC with the shop, expiry) and the returned state (constant
// time); the shop's org must still be the state's, with an enabled
// connection for the same issuer and client. The code is redeemed at THAT
// connection's issuer with the PKCE verifier, and the ID token verified
// against that issuer's keys, for that client ID, with the nonce. The
// token must assert email_verified, and the address's domain must be
// verified by the org. The account with that address is then used (linked
// to the IdP identity: the org proved the domain), or created; an identity
// already linked to another account is refused. A user not yet a member
// of the shop becomes one with the connection's default role (just in
// time, audited, member.added via "sso"). The session is AAL2 when the
// token's amr says a second factor was used (ssoAAL), else AAL1; the
// shop's two-factor policy still applies (Principal.Pending). Refusals
// match ports.ErrUnauthenticated and, once past the state, are audited
// (auth.sso.refused).
func (s *Service) FinishSSO(ctx context.Context, in SSOCallback) (Issued, error) {
	c := in.Client.clean()
	st, err := s.readSSOState(in.Shop, in.StateCookie)
	if err != nil {
		return Issued{}, err
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(in.State)) != 1 {
		return Issued{}, errBadSSOState
	}
	var conn ports.SSOConnection
	var org ports.OrgID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		sh, err := tx.Shops().Get(ctx, in.Shop)
		if err != nil {
			return err
		}
		org = sh.OrgID
		conn, err = tx.SSOConnections().Get(ctx, sh.OrgID)
		return err
	}, ports.ReadOnly())
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	if conn.OrgID.IsZero() || !conn.Enabled || conn.OrgID.String() != st.Org || conn.Issuer != st.Issuer || conn.ClientID != st.ClientID {
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the org's connection is not the one this sign-in started with")
	}
	p, err := s.ssoProvider(ctx, conn)
	if err != nil {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	id, err := p.Exchange(ctx, in.Code, ports.AuthRequest{State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, in.RedirectURL)
	if errors.Is(err, ports.ErrUnauthenticated) {
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the ID token or code was refused")
	} else if err != nil {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	email := ports.NormalizeEmail(id.Email)
	domain := ports.EmailDomain(email)
	switch {
	case id.Issuer != conn.Issuer:
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the identity is from another issuer")
	case !id.EmailVerified:
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the IdP has not verified the e-mail address")
	case ports.ValidateEmail(email) != nil || domain == "":
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the ID token has no usable e-mail address")
	}
	var verifiedBy ports.OrgID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		verifiedBy, err = tx.OrgDomains().VerifiedBy(ctx, domain)
		return err
	}, ports.ReadOnly())
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	if verifiedBy != conn.OrgID {
		return Issued{}, s.ssoRefusal(ctx, in.Shop, c, org, "the address's domain is not verified by this org")
	}

	user, err := s.ssoUser(ctx, id, email, in.Shop, conn.OrgID, c)
	if err != nil {
		return Issued{}, err
	}
	aal := ssoAAL(id.AMR)
	var out Issued
	var added published
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Get(ctx, user); errors.Is(err, ports.ErrNotFound) {
			if _, err := tx.Memberships().Add(ctx, user, conn.DefaultRole); err != nil {
				return err
			}
			if err := s.appendAudit(ctx, tx, c, event{
				actor: "user:" + user.String(), action: "member.added", target: "user:" + user.String(), outcome: ports.OutcomeSuccess,
				after: map[string]string{"role": string(conn.DefaultRole), "via": "sso"},
			}); err != nil {
				return err
			}
			if err := s.record(ctx, tx, &added, events.MemberAdded{User: user.String(), Role: string(conn.DefaultRole), Via: "sso"}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		out, err = s.mintSessionAt(ctx, tx, user, MethodSSO, aal, c, in.Replace)
		return err
	})
	if err != nil {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	s.events.After(ctx, added)
	if err := s.assess(ctx, &out.Principal); err != nil {
		return Issued{}, fmt.Errorf("single sign-on: %w", err)
	}
	return out, nil
}

// ssoUser returns the account an SSO identity signs in as: the account
// with the verified address (whose domain the org proved), created when
// there is none. The identity (issuer, subject) is linked to it; an
// identity already linked to another account is refused. For an account
// whose mailbox was never proven the IdP's verified address is the first
// proof (AUTH-16): it removes the password and identity links set before
// it and ends the account's sessions everywhere.
func (s *Service) ssoUser(ctx context.Context, id ports.ExternalIdentity, email string, shop ports.ShopID, org ports.OrgID, c Client) (ports.UserID, error) {
	var user ports.UserID
	var first, conflict bool
	var created ports.User
	var shops []ports.ShopID
	now := s.clock.Now()
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		link, err := tx.Identities().Get(ctx, id.Issuer, id.Subject)
		linked := err == nil
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: strings.TrimSpace(id.Name), VerifiedAt: now})
			created = u
		}
		if err != nil {
			return err
		}
		if linked && link.UserID != u.ID {
			conflict = true
			return errLinkedElsewhere // rolls back an account created above
		}
		user = u.ID
		if u.VerifiedAt.IsZero() {
			if first, err = proveMailbox(ctx, tx, u.ID, now); err != nil {
				return err
			}
			if first {
				linked = false // the proof removed every earlier link
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
	if err != nil && !conflict {
		return ports.UserID{}, fmt.Errorf("single sign-on: link identity: %w", err)
	}
	if conflict {
		return ports.UserID{}, s.ssoRefusal(ctx, shop, c, org, "the IdP identity is linked to another account")
	}
	if first {
		s.auditInShops(ctx, user, shops, ports.SessionID{}, c, provenEvent(user))
	}
	if !created.ID.IsZero() {
		s.signedUp(ctx, created, "sso")
	}
	return user, nil
}

// possessionAMR reports whether m is an RFC 8176 method that proves
// something the user has or is, beyond a password: one of them with any
// other method is a second factor.
func possessionAMR(m string) bool {
	switch m {
	case "hwk", "swk", "otp", "sms", "tel", "sc", "fpt", "face", "iris", "retina", "vbm":
		return true
	}
	return false
}

// ssoAAL is an SSO session's assurance level from the ID token's amr
// claim (RFC 8176): AAL2 when it lists "mfa", or a possession or
// inherence method (see possessionAMR) together with another method; AAL1
// otherwise, also when the claim is absent. The claim is the org's IdP's
// word, which the org is trusted for on its own verified domains.
func ssoAAL(amr []string) int {
	if slices.Contains(amr, "mfa") {
		return ports.AAL2
	}
	distinct := map[string]bool{}
	strong := false
	for _, m := range amr {
		distinct[m] = true
		strong = strong || possessionAMR(m)
	}
	if strong && len(distinct) >= 2 {
		return ports.AAL2
	}
	return ports.AAL1
}
