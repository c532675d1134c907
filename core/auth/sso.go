package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// SSOClient is what building an org connection's identity provider needs:
// the connection's issuer and Stockade's registration there, the secret
// opened.
type SSOClient struct {
	// Name names the provider in logs and errors: "sso-<org id>".
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
}

// SSOProviderFunc builds the identity provider of an org's connection
// (adapters/oidc.New over the issuer's discovery document). Its errors
// match ports.ErrInvalid (a bad issuer) or ports.ErrUnavailable (the
// issuer cannot be reached).
type SSOProviderFunc func(ctx context.Context, c SSOClient) (ports.IdentityProvider, error)

// Audit actions of single sign-on (AUTH-14), in the log of the shop the
// Owner acted from (org-level changes, as the org's other actions).
const (
	ActionSSOUpdated      = "org.sso.updated"
	ActionSSODeleted      = "org.sso.deleted"
	ActionDomainAdded     = "org.domain.added"
	ActionDomainVerified  = "org.domain.verified"
	ActionDomainRemoved   = "org.domain.removed"
	ActionSSOSignInDenied = "auth.sso.refused"
)

// SSOConnectionInfo is an org's SSO connection as its owners see it:
// never the client secret.
type SSOConnectionInfo struct {
	Issuer      string
	ClientID    string
	DefaultRole ports.Role
	Enabled     bool
	Mandatory   bool
	// BreakGlass is the owner still allowed passwords and magic links
	// while Mandatory (zero for nobody), and BreakGlassEmail their address.
	BreakGlass      ports.UserID
	BreakGlassEmail string
	UpdatedBy       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// SSOConnectionInput configures an org's SSO connection.
type SSOConnectionInput struct {
	Issuer   string
	ClientID string
	// ClientSecret is the secret of ClientID at Issuer. Empty keeps the
	// stored one, which is possible only while issuer and client ID stay
	// the same (the sealed secret is bound to both).
	ClientSecret string
	DefaultRole  ports.Role
	Enabled      bool
	Mandatory    bool
	// BreakGlassEmail names the one org owner exempt from Mandatory; ""
	// for nobody.
	BreakGlassEmail string
}

// ssoScope is the caller's scope for managing the org's single sign-on:
// access.ShopRead in the current shop, then the caller's own org role must
// allow access.OrgSSOManage (an org owner). A system scope (the CLI) may;
// an impersonating operator or an HQ visit may not.
func (s *Service) ssoScope(ctx context.Context) (access.Scope, error) {
	sc, err := s.access.Require(ctx, access.ShopRead)
	if err != nil {
		return access.Scope{}, err
	}
	if sc.System != "" {
		return sc, nil
	}
	if sc.User.IsZero() || sc.Impersonator != "" || sc.HQ {
		return access.Scope{}, fmt.Errorf("%s needs the caller's own org role: %w", access.OrgSSOManage, ports.ErrForbidden)
	}
	var m ports.OrgMember
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		m, err = tx.OrgMembers().Get(ctx, sc.Org, sc.User)
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return access.Scope{}, fmt.Errorf("not an owner of this org: %w", ports.ErrForbidden)
	case err != nil:
		return access.Scope{}, fmt.Errorf("read org role: %w", err)
	case !access.OrgAllows(m.Role, access.OrgSSOManage):
		return access.Scope{}, fmt.Errorf("org role %q lacks %s: %w", m.Role, access.OrgSSOManage, ports.ErrForbidden)
	}
	return sc, nil
}

// auditOrg appends an org-level change to the caller's shop's log.
func (s *Service) auditOrg(ctx context.Context, sc access.Scope, c Client, action, target string, after any) error {
	return s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		return s.appendAudit(ctx, tx, c, event{
			actor: sc.Actor(), impersonator: sc.Impersonator, action: action, target: target, outcome: ports.OutcomeSuccess, after: after,
		})
	})
}

// ssoSecretAAD binds a sealed client secret to its org, issuer and client.
func ssoSecretAAD(org ports.OrgID, issuer, clientID string) []byte {
	return []byte("stockade/sso-client-secret/v1\x00" + org.String() + "\x00" + issuer + "\x00" + clientID)
}

// validIssuer checks an issuer identifier: an absolute https URL (http
// only for a loopback host) without user info, query or fragment.
func validIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return ports.Invalid("issuer", "must be an absolute URL without user info, query or fragment")
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if u.Scheme != "https" && (u.Scheme != "http" || (host != "localhost" && (ip == nil || !ip.IsLoopback()))) {
		return ports.Invalid("issuer", "must use https (http only for a loopback host)")
	}
	return nil
}

// provider builds the identity provider of conn, opening its secret.
func (s *Service) ssoProvider(ctx context.Context, conn ports.SSOConnection) (ports.IdentityProvider, error) {
	secret, err := s.openBytes(ctx, "open sso client secret", ssoSecretAAD(conn.OrgID, conn.Issuer, conn.ClientID), conn.SealedSecret)
	if err != nil {
		return nil, err
	}
	return s.buildSSOProvider(ctx, conn.OrgID, conn.Issuer, conn.ClientID, string(secret))
}

func (s *Service) buildSSOProvider(ctx context.Context, org ports.OrgID, issuer, clientID, secret string) (ports.IdentityProvider, error) {
	if s.ssoProviders == nil {
		return nil, fmt.Errorf("single sign-on is not set up on this server (auth.Deps.SSOProviders): %w", ports.ErrUnavailable)
	}
	return s.ssoProviders(ctx, SSOClient{Name: "sso-" + org.String(), Issuer: issuer, ClientID: clientID, ClientSecret: secret})
}

// SSOConnection returns the caller's org's SSO connection (ErrNotFound
// when it has none). The caller must be an org owner (access.OrgSSOManage)
// or a system scope.
func (s *Service) SSOConnection(ctx context.Context) (SSOConnectionInfo, error) {
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("sso connection: %w", err)
	}
	var out SSOConnectionInfo
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		conn, err := tx.SSOConnections().Get(ctx, sc.Org)
		if err != nil {
			return err
		}
		out, err = infoOf(ctx, tx, conn)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("sso connection: %w", err)
	}
	return out, nil
}

func infoOf(ctx context.Context, tx ports.GlobalTx, c ports.SSOConnection) (SSOConnectionInfo, error) {
	out := SSOConnectionInfo{
		Issuer: c.Issuer, ClientID: c.ClientID, DefaultRole: c.DefaultRole, Enabled: c.Enabled, Mandatory: c.Mandatory,
		BreakGlass: c.BreakGlass, UpdatedBy: c.UpdatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if !c.BreakGlass.IsZero() {
		u, err := tx.Users().Get(ctx, c.BreakGlass)
		if err != nil {
			return SSOConnectionInfo{}, fmt.Errorf("break-glass owner: %w", err)
		}
		out.BreakGlassEmail = u.Email
	}
	return out, nil
}

// PutSSOConnection creates or replaces the caller's org's SSO connection
// (AUTH-14). The client secret is sealed at rest as TOTP secrets are
// (under FactorKeyScope, bound to the org, issuer and client ID). An
// enabled connection's issuer is discovered first, so a typo is refused
// now rather than at the next sign-in. The break-glass address, when
// given, must be an owner of the org. The change is audited
// (org.sso.updated, never the secret) in the caller's shop's log. The
// caller must be an org owner or a system scope.
//
// ErrInvalid for a bad issuer, client ID, role, missing secret or
// break-glass address; ErrUnavailable when the issuer cannot be reached.
func (s *Service) PutSSOConnection(ctx context.Context, in SSOConnectionInput, c Client) (SSOConnectionInfo, error) {
	c = c.clean()
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
	}
	issuer, clientID := strings.TrimSpace(in.Issuer), strings.TrimSpace(in.ClientID)
	if err := validIssuer(issuer); err != nil {
		return SSOConnectionInfo{}, err
	}
	if clientID == "" || len(clientID) > 512 {
		return SSOConnectionInfo{}, ports.Invalid("client_id", "must be 1 to 512 characters")
	}
	if err := ports.ValidateRole(in.DefaultRole); err != nil {
		return SSOConnectionInfo{}, ports.Invalid("default_role", "must be one of owner, admin, tech, sales, viewer")
	}
	if len(in.ClientSecret) > 1024 {
		return SSOConnectionInfo{}, ports.Invalid("client_secret", "must be at most 1024 characters")
	}
	var prev ports.SSOConnection
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		prev, err = tx.SSOConnections().Get(ctx, sc.Org)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
	}
	secret := in.ClientSecret
	if secret == "" {
		if prev.OrgID.IsZero() || prev.Issuer != issuer || prev.ClientID != clientID {
			return SSOConnectionInfo{}, ports.Invalid("client_secret", "required for a new connection, issuer or client ID")
		}
		raw, err := s.openBytes(ctx, "open sso client secret", ssoSecretAAD(sc.Org, issuer, clientID), prev.SealedSecret)
		if err != nil {
			return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
		}
		secret = string(raw)
	}
	if in.Enabled {
		if _, err := s.buildSSOProvider(ctx, sc.Org, issuer, clientID, secret); err != nil {
			return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
		}
	}
	sealed, err := s.sealBytes(ctx, "seal sso client secret", ssoSecretAAD(sc.Org, issuer, clientID), []byte(secret))
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
	}
	var out SSOConnectionInfo
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var breakGlass ports.UserID
		if email := ports.NormalizeEmail(in.BreakGlassEmail); email != "" {
			u, err := tx.Users().GetByEmail(ctx, email)
			if errors.Is(err, ports.ErrNotFound) {
				return ports.Invalid("break_glass_email", "must be an owner of the org")
			} else if err != nil {
				return err
			}
			m, err := tx.OrgMembers().Get(ctx, sc.Org, u.ID)
			if errors.Is(err, ports.ErrNotFound) || (err == nil && m.Role != ports.OrgOwner) {
				return ports.Invalid("break_glass_email", "must be an owner of the org")
			} else if err != nil {
				return err
			}
			breakGlass = u.ID
		}
		conn, err := tx.SSOConnections().Put(ctx, ports.SSOConnection{
			OrgID: sc.Org, Issuer: issuer, ClientID: clientID, SealedSecret: sealed, DefaultRole: in.DefaultRole,
			Enabled: in.Enabled, Mandatory: in.Mandatory, BreakGlass: breakGlass, UpdatedBy: sc.Actor(),
		})
		if err != nil {
			return err
		}
		out, err = infoOf(ctx, tx, conn)
		return err
	})
	if err != nil {
		return SSOConnectionInfo{}, fmt.Errorf("set sso connection: %w", err)
	}
	after := map[string]any{
		"issuer": out.Issuer, "client_id": out.ClientID, "default_role": out.DefaultRole, "enabled": out.Enabled,
		"mandatory": out.Mandatory, "break_glass": idOrEmpty(out.BreakGlass), "secret_changed": in.ClientSecret != "",
	}
	if !prev.OrgID.IsZero() {
		after["before"] = map[string]any{
			"issuer": prev.Issuer, "client_id": prev.ClientID, "default_role": prev.DefaultRole, "enabled": prev.Enabled,
			"mandatory": prev.Mandatory, "break_glass": idOrEmpty(prev.BreakGlass),
		}
	}
	if err := s.auditOrg(ctx, sc, c, ActionSSOUpdated, "org:"+sc.Org.String(), after); err != nil {
		return out, fmt.Errorf("sso connection set, audit failed: %w", err)
	}
	return out, nil
}

// DeleteSSOConnection removes the caller's org's SSO connection
// (ErrNotFound when there is none); mandatory SSO ends with it. Audited
// (org.sso.deleted). The caller must be an org owner or a system scope.
func (s *Service) DeleteSSOConnection(ctx context.Context, c Client) error {
	c = c.clean()
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return fmt.Errorf("delete sso connection: %w", err)
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.SSOConnections().Delete(ctx, sc.Org)
	})
	if err != nil {
		return fmt.Errorf("delete sso connection: %w", err)
	}
	return s.auditOrg(ctx, sc, c, ActionSSODeleted, "org:"+sc.Org.String(), nil)
}

// OrgDomainInfo is a claimed domain with the DNS record that proves it.
type OrgDomainInfo struct {
	ports.OrgDomain
	// RecordName and RecordValue are the TXT record to publish.
	RecordName  string
	RecordValue string
}

func domainInfo(d ports.OrgDomain) OrgDomainInfo {
	return OrgDomainInfo{OrgDomain: d, RecordName: ports.DomainChallengeName(d.Domain), RecordValue: ports.DomainChallengeValue(d.Token)}
}

// AddOrgDomain claims an e-mail domain for the caller's org and returns
// the TXT record to publish: "stockade-verification=<random>" (128 bits
// from crypto/rand) at "_stockade-challenge.<domain>". Audited
// (org.domain.added). ErrInvalid for a malformed domain, ErrConflict when
// the org claims it already. The caller must be an org owner or a system
// scope.
func (s *Service) AddOrgDomain(ctx context.Context, domain string, c Client) (OrgDomainInfo, error) {
	c = c.clean()
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return OrgDomainInfo{}, fmt.Errorf("add domain: %w", err)
	}
	domain = ports.NormalizeDomain(domain)
	if err := ports.ValidateDomain(domain); err != nil {
		return OrgDomainInfo{}, err
	}
	var d ports.OrgDomain
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		d, err = tx.OrgDomains().Add(ctx, ports.OrgDomain{OrgID: sc.Org, Domain: domain, Token: rand.Text()})
		return err
	})
	if err != nil {
		return OrgDomainInfo{}, fmt.Errorf("add domain %s: %w", domain, err)
	}
	if err := s.auditOrg(ctx, sc, c, ActionDomainAdded, "org:"+sc.Org.String(), map[string]string{"domain": domain}); err != nil {
		return domainInfo(d), fmt.Errorf("domain added, audit failed: %w", err)
	}
	return domainInfo(d), nil
}

// OrgDomains lists the caller's org's claimed domains. The caller must be
// an org owner or a system scope.
func (s *Service) OrgDomains(ctx context.Context) ([]OrgDomainInfo, error) {
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	var ds []ports.OrgDomain
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		ds, err = tx.OrgDomains().List(ctx, sc.Org)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	out := make([]OrgDomainInfo, len(ds))
	for i, d := range ds {
		out[i] = domainInfo(d)
	}
	return out, nil
}

// VerifyOrgDomain checks the caller's org's claim of domain: a TXT record
// at "_stockade-challenge.<domain>" must equal the claim's value (looked
// up through Deps.DNS). It then marks the domain verified for the org,
// audited (org.domain.verified); verifying a verified domain again is a
// no-op success. ErrNotFound when the org does not claim domain;
// ErrInvalid when no record matches; ErrConflict when another org has
// verified the domain; ErrUnavailable when DNS fails otherwise. The caller
// must be an org owner or a system scope.
func (s *Service) VerifyOrgDomain(ctx context.Context, domain string, c Client) (OrgDomainInfo, error) {
	c = c.clean()
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return OrgDomainInfo{}, fmt.Errorf("verify domain: %w", err)
	}
	domain = ports.NormalizeDomain(domain)
	var d ports.OrgDomain
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		d, err = tx.OrgDomains().Get(ctx, sc.Org, domain)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return OrgDomainInfo{}, fmt.Errorf("verify domain %s: %w", domain, err)
	}
	if d.Verified() {
		return domainInfo(d), nil
	}
	name, want := ports.DomainChallengeName(domain), ports.DomainChallengeValue(d.Token)
	records, err := s.dns.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return OrgDomainInfo{}, fmt.Errorf("verify domain %s: look up TXT %s: %v: %w", domain, name, err, ports.ErrUnavailable)
	}
	found := false
	for _, r := range records {
		if strings.TrimSpace(r) == want {
			found = true
			break
		}
	}
	if !found {
		return OrgDomainInfo{}, ports.Invalid("domain", fmt.Sprintf("no TXT record %q at %s yet", want, name))
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		d, err = tx.OrgDomains().MarkVerified(ctx, sc.Org, domain, s.clock.Now())
		return err
	})
	if errors.Is(err, ports.ErrConflict) {
		return OrgDomainInfo{}, fmt.Errorf("verify domain %s: another org has verified it: %w", domain, ports.ErrConflict)
	} else if err != nil {
		return OrgDomainInfo{}, fmt.Errorf("verify domain %s: %w", domain, err)
	}
	if err := s.auditOrg(ctx, sc, c, ActionDomainVerified, "org:"+sc.Org.String(), map[string]string{"domain": domain}); err != nil {
		return domainInfo(d), fmt.Errorf("domain verified, audit failed: %w", err)
	}
	return domainInfo(d), nil
}

// RemoveOrgDomain gives up the caller's org's claim of domain (verified
// or not): SSO and mandatory SSO stop applying to its addresses, and
// another org may verify it. Audited (org.domain.removed). ErrNotFound
// when the org does not claim it. The caller must be an org owner or a
// system scope.
func (s *Service) RemoveOrgDomain(ctx context.Context, domain string, c Client) error {
	c = c.clean()
	sc, err := s.ssoScope(ctx)
	if err != nil {
		return fmt.Errorf("remove domain: %w", err)
	}
	domain = ports.NormalizeDomain(domain)
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.OrgDomains().Remove(ctx, sc.Org, domain)
	})
	if err != nil {
		return fmt.Errorf("remove domain %s: %w", domain, err)
	}
	return s.auditOrg(ctx, sc, c, ActionDomainRemoved, "org:"+sc.Org.String(), map[string]string{"domain": domain})
}

func idOrEmpty(u ports.UserID) string {
	if u.IsZero() {
		return ""
	}
	return u.String()
}
