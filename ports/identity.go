package ports

import (
	"context"
	"time"
)

// Identity links an account at an external OpenID Connect issuer to a
// user (AUTH-5). It is a global row keyed by (Issuer, Subject).
type Identity struct {
	Issuer    string // the issuer URL as in the ID token's iss claim
	Subject   string // the sub claim
	UserID    UserID
	Email     string // the e-mail the issuer asserted when the link was made
	CreatedAt time.Time
}

// IdentityRepo keeps identity links.
type IdentityRepo interface {
	// Link stores i, stamping CreatedAt. ErrConflict if (Issuer, Subject)
	// is linked already; ErrNotFound if the user does not exist;
	// ErrInvalid for an empty issuer or subject (or one over 255 bytes).
	Link(ctx context.Context, i Identity) (Identity, error)
	// Get returns the link for (issuer, subject) or ErrNotFound.
	Get(ctx context.Context, issuer, subject string) (Identity, error)
	// ListByUser returns the user's links ordered by creation.
	ListByUser(ctx context.Context, user UserID) ([]Identity, error)
	// DeleteByUser removes every link of the user and returns how many (an
	// account's first mailbox proof removes links made before it).
	DeleteByUser(ctx context.Context, user UserID) (int, error)
}

// ExternalIdentity is what an identity provider asserted about the person
// who signed in, after the ID token was verified.
type ExternalIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// AMR are the authentication methods the provider says it used (the
	// ID token's amr claim, RFC 8176), as asserted; empty when absent.
	AMR []string
}

// AuthRequest is one sign-in attempt's secrets, kept by the caller between
// the redirect to the provider and the callback.
type AuthRequest struct {
	State    string // echoed by the provider; compared by the caller
	Nonce    string // bound into the ID token; checked by Exchange
	Verifier string // PKCE code verifier (RFC 7636); its S256 challenge is sent
}

// IdentityProvider is one OpenID Connect issuer configured for sign-in.
// Implementations are safe for concurrent use.
type IdentityProvider interface {
	// Name is the provider's configured name, e.g. "google".
	Name() string
	// AuthURL returns the URL to send the browser to, carrying req's state,
	// nonce and S256 challenge, and redirecting back to redirectURL.
	AuthURL(req AuthRequest, redirectURL string) string
	// Exchange redeems code with req's verifier, verifies the ID token
	// (signature, issuer, audience, expiry) and that its nonce equals
	// req.Nonce, and returns the asserted identity. ErrUnauthenticated for
	// a refused code, a bad token or a nonce mismatch; ErrUnavailable when
	// the provider cannot be reached.
	Exchange(ctx context.Context, code string, req AuthRequest, redirectURL string) (ExternalIdentity, error)
}
