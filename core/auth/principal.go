package auth

import (
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Principal is a caller authenticated by a session on one shop's host.
type Principal struct {
	Shop      ports.ShopID
	User      ports.UserID
	Role      ports.Role // the user's role in Shop at the time of the request
	Session   ports.SessionID
	Method    string // how the session was signed in
	ExpiresAt time.Time
	// Impersonation and Impersonator are set when an operator is acting
	// as User through an impersonation session (AUD-5).
	Impersonation ports.ImpersonationID
	Impersonator  ports.OperatorID
	// AAL is the session's assurance level (ports.AAL1 or ports.AAL2)
	// and ReauthenticatedAt when its user last proved who they are
	// (AUTH-13).
	AAL               int
	ReauthenticatedAt time.Time
	// HasSecondFactor reports whether the user has a confirmed second
	// factor.
	HasSecondFactor bool
	// Pending is what the session must do before it is served:
	// PendingStepUp, PendingEnrol, or "" when it is served. Authenticate
	// refuses a pending session; AuthenticatePending returns it, for the
	// routes that let it step up or enrol.
	Pending string
}

// Impersonated reports whether an operator is acting as the user.
func (p Principal) Impersonated() bool { return !p.Impersonation.IsZero() }

// Actor is the principal as audit events name it.
func (p Principal) Actor() string { return "user:" + p.User.String() }

// Client describes where a request came from, for sessions and audit
// events. Values are as the HTTP layer saw them; the service truncates
// overlong ones.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
}

func (c Client) clean() Client {
	c.IP = truncate(c.IP, 64)
	c.UserAgent = truncate(c.UserAgent, 512)
	c.RequestID = truncate(c.RequestID, 128)
	return c
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Issued is a session just created: the cookie value to hand the browser
// and the principal it authenticates.
type Issued struct {
	Cookie    string
	Principal Principal
}
