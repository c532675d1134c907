package ports

import (
	"context"
	"net"
	"strings"
	"time"
)

// SSOConnection is an org's OpenID Connect single sign-on connection
// (AUTH-14): the org's own identity provider, to which sign-in for the
// org's verified e-mail domains goes on the org's shops. An org has at
// most one. It is a global, org-level row, reached through the global
// unit of work.
type SSOConnection struct {
	OrgID OrgID
	// Issuer is the IdP's issuer identifier, exactly as its discovery
	// document and ID tokens spell it.
	Issuer string
	// ClientID is Stockade's registration at the issuer; every ID token
	// must be issued to it.
	ClientID string
	// SealedSecret is the client secret sealed by the auth service under
	// its key manager (never the secret itself).
	SealedSecret []byte
	// DefaultRole is the shop role a user signing in through the
	// connection is given on a shop of the org they are not a member of
	// yet (just in time).
	DefaultRole Role
	// Enabled connections are offered; a disabled one is kept but neither
	// offered nor enforced.
	Enabled bool
	// Mandatory refuses password, magic-link and passkey sign-in, on the
	// org's shops, for addresses of the org's verified domains, while the
	// connection is enabled.
	Mandatory bool
	// BreakGlass is the one org owner still allowed to sign in with a
	// password or a magic link while Mandatory; zero for nobody.
	BreakGlass UserID
	// UpdatedBy is the actor of the last change ("user:<id>", "system:cli").
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a connection before it is stored.
func (c SSOConnection) Validate() error {
	switch {
	case c.OrgID.IsZero():
		return Invalid("org_id", "must be set")
	case c.Issuer == "" || len(c.Issuer) > 2048:
		return Invalid("issuer", "must be 1 to 2048 characters")
	case c.ClientID == "" || len(c.ClientID) > 512:
		return Invalid("client_id", "must be 1 to 512 characters")
	case len(c.SealedSecret) == 0 || len(c.SealedSecret) > 4096:
		return Invalid("client_secret", "must be sealed")
	case c.UpdatedBy == "":
		return Invalid("updated_by", "must be set")
	}
	return ValidateRole(c.DefaultRole)
}

// SSOConnectionRepo keeps orgs' SSO connections. It is part of the global
// unit of work.
type SSOConnectionRepo interface {
	// Get returns org's connection, or ErrNotFound.
	Get(ctx context.Context, org OrgID) (SSOConnection, error)
	// Put stores c as org c.OrgID's connection, replacing the one it had
	// (CreatedAt kept, UpdatedAt stamped; a new one gets both), and
	// returns it as stored. ErrInvalid for a malformed connection;
	// ErrNotFound for an unknown org, or a BreakGlass that is set and not
	// a user.
	Put(ctx context.Context, c SSOConnection) (SSOConnection, error)
	// Delete removes org's connection; ErrNotFound when it has none.
	Delete(ctx context.Context, org OrgID) error
}

// OrgDomain is an e-mail domain an org claims, and once the DNS challenge
// is met, has proven it controls (AUTH-14). A domain may be claimed by
// several orgs, but verified by at most one.
type OrgDomain struct {
	OrgID  OrgID
	Domain string // lower case, no trailing dot (see NormalizeDomain)
	// Token is the random part of the TXT value the org publishes at
	// DomainChallengeName(Domain): DomainChallengeValue(Token). It is
	// public by design.
	Token     string
	CreatedAt time.Time
	// VerifiedAt is when the challenge was met; zero while pending.
	VerifiedAt time.Time
}

// Verified reports whether the org has proven the domain.
func (d OrgDomain) Verified() bool { return !d.VerifiedAt.IsZero() }

// DomainChallengeName is the DNS name whose TXT records prove domain.
func DomainChallengeName(domain string) string { return "_stockade-challenge." + domain }

// DomainChallengeValue is the TXT record value that proves a domain
// claimed with token.
func DomainChallengeValue(token string) string { return "stockade-verification=" + token }

// NormalizeDomain lower-cases domain and strips one trailing dot.
func NormalizeDomain(domain string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
}

// ValidateDomain returns ErrInvalid unless domain (normalised) is a DNS
// name of at least two labels, each 1–63 of a-z, 0-9 and inner hyphens,
// 253 characters at most, and not an IP address.
func ValidateDomain(domain string) error {
	bad := Invalid("domain", "must be a domain name such as example.com")
	if len(domain) > 253 || net.ParseIP(domain) != nil {
		return bad
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return bad
			}
		}
	}
	return nil
}

// EmailDomain returns the normalised domain of a normalised e-mail
// address, or "" when it has none.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return NormalizeDomain(email[at+1:])
}

// OrgDomainRepo keeps the domains orgs claim. It is part of the global
// unit of work.
type OrgDomainRepo interface {
	// Add stores org d.OrgID's claim of d.Domain, pending (CreatedAt
	// stamped, VerifiedAt ignored). ErrInvalid for a malformed domain or
	// an empty token; ErrConflict when the org already claims it;
	// ErrNotFound for an unknown org.
	Add(ctx context.Context, d OrgDomain) (OrgDomain, error)
	// Get returns org's claim of domain, or ErrNotFound.
	Get(ctx context.Context, org OrgID, domain string) (OrgDomain, error)
	// List returns org's claims, by domain.
	List(ctx context.Context, org OrgID) ([]OrgDomain, error)
	// MarkVerified records that org met domain's challenge at at and
	// returns the claim; verifying a verified claim again keeps its time.
	// ErrNotFound when org does not claim domain; ErrConflict when another
	// org has verified it (two concurrent calls for one domain: at most
	// one succeeds).
	MarkVerified(ctx context.Context, org OrgID, domain string, at time.Time) (OrgDomain, error)
	// Remove deletes org's claim of domain; ErrNotFound when there is
	// none.
	Remove(ctx context.Context, org OrgID, domain string) error
	// VerifiedBy returns the org that has verified domain, or ErrNotFound.
	VerifiedBy(ctx context.Context, domain string) (OrgID, error)
}

// DNSResolver looks up TXT records; *net.Resolver is one. Tests use a
// fake.
type DNSResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}
