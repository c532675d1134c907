package app

import (
	"context"
	"errors"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// AuthMailOutcome is how an auth mail delivery attempt ended, as the
// stockade_auth_mail_total counter labels it.
type AuthMailOutcome string

// The auth mail outcomes.
const (
	// AuthMailOutcomeSent: the provider accepted the mail and it was
	// marked sent.
	AuthMailOutcomeSent AuthMailOutcome = "sent"
	// AuthMailOutcomeRetry: the attempt failed and the mail is tried again
	// after a back-off.
	AuthMailOutcomeRetry AuthMailOutcome = "retry"
	// AuthMailOutcomeDead: the attempt failed for good (refused, or no
	// attempts left); the mail is not sent.
	AuthMailOutcomeDead AuthMailOutcome = "dead"
	// AuthMailOutcomeLost: the attempt ended after its lease ran out, so
	// its outcome was not recorded; another claim owns the mail.
	AuthMailOutcomeLost AuthMailOutcome = "lost"
)

// authMailKinds are the kinds whose series NewMetrics creates up front.
var authMailKinds = []ports.AuthMailKind{
	ports.AuthMailMagicLink, ports.AuthMailInvitation, ports.AuthMailVerify, ports.AuthMailReset, ports.AuthMailOrgInvitation,
}

// observeAuthMail counts one ended auth mail attempt of kind. It does
// nothing on a nil *Metrics.
func (m *Metrics) observeAuthMail(kind ports.AuthMailKind, outcome AuthMailOutcome) {
	if m == nil {
		return
	}
	m.authMail.WithLabelValues(string(kind), string(outcome)).Inc()
}

// observeAuthMailClaim records the queue age of a mail claimed at now:
// the time since it was due (RunAt), never negative. It does nothing on a
// nil *Metrics.
func (m *Metrics) observeAuthMailClaim(mail ports.AuthMail, now time.Time) {
	if m == nil {
		return
	}
	m.authMailAge.WithLabelValues(string(mail.Kind)).Observe(max(now.Sub(mail.RunAt), 0).Seconds())
}

// observedAuthMail is the auth mail worker's queue with what passes
// through it counted: the claims' queue age, the sent marks and the
// failures. The worker's every outcome goes through the queue, so no
// observer is needed in core.
type observedAuthMail struct {
	ports.AuthMailOutbox
	m *Metrics
}

// ClaimAuthMail claims through the queue and records each claimed mail's
// queue age.
func (q observedAuthMail) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	claimed, err := q.AuthMailOutbox.ClaimAuthMail(ctx, now, limit, lease)
	for _, mail := range claimed {
		q.m.observeAuthMailClaim(mail, now)
	}
	return claimed, err
}

// MarkAuthMailSent marks through the queue and counts a sent mail, or a
// lost one when the lease had run out.
func (q observedAuthMail) MarkAuthMailSent(ctx context.Context, mail ports.AuthMail, providerID string) (ports.AuthMail, error) {
	out, err := q.AuthMailOutbox.MarkAuthMailSent(ctx, mail, providerID)
	switch {
	case err == nil:
		q.m.observeAuthMail(mail.Kind, AuthMailOutcomeSent)
	case errors.Is(err, ports.ErrNotFound):
		q.m.observeAuthMail(mail.Kind, AuthMailOutcomeLost)
	}
	return out, err
}

// FailAuthMail records the failure through the queue and counts a retry
// or a dead mail (by the state the queue recorded), or a lost one when
// the lease had run out.
func (q observedAuthMail) FailAuthMail(ctx context.Context, mail ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	out, err := q.AuthMailOutbox.FailAuthMail(ctx, mail, reason, retryAt, dead)
	switch {
	case err == nil && out.State == ports.AuthMailDead:
		q.m.observeAuthMail(mail.Kind, AuthMailOutcomeDead)
	case err == nil:
		q.m.observeAuthMail(mail.Kind, AuthMailOutcomeRetry)
	case errors.Is(err, ports.ErrNotFound):
		q.m.observeAuthMail(mail.Kind, AuthMailOutcomeLost)
	}
	return out, err
}
