package auth

import (
	"context"

	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// published is an event recorded in a unit of work, for After once it has
// committed (an alias, so the use cases need no import of their own).
type published = events.Event

// record records data, a change of tx's shop, with the service's
// publisher (its webhooks are enqueued in tx) and keeps the event in *ev
// for After once tx has committed.
func (s *Service) record(ctx context.Context, tx ports.ShopTx, ev *published, data events.Payload) error {
	e, err := s.events.Record(ctx, tx, data)
	if err != nil {
		return err
	}
	*ev = e
	return nil
}

// sessionsRevoked records a deliberate revocation of n sessions of user
// (session, when it was one named session) by "self", "admin" or
// "operator"; nothing when n is 0.
func (s *Service) sessionsRevoked(ctx context.Context, tx ports.ShopTx, ev *published, user ports.UserID, session ports.SessionID, n int, by string) error {
	if n == 0 {
		return nil
	}
	data := events.SessionRevoked{User: user.String(), Count: n, By: by}
	if !session.IsZero() {
		data.Session = session.String()
	}
	return s.record(ctx, tx, ev, data)
}

// memberAdded records an operator's adding user to tx's shop with role.
func (s *Service) memberAdded(ctx context.Context, tx ports.ShopTx, ev *published, user ports.UserID, role ports.Role) error {
	return s.record(ctx, tx, ev, events.MemberAdded{User: user.String(), Role: string(role), Via: "operator"})
}

// signedUp tells the hooks that the account u was created, via "signup",
// "invitation", "oidc" or "operator"; call it after the creation
// committed.
func (s *Service) signedUp(ctx context.Context, u ports.User, via string) {
	s.events.After(ctx, s.events.Global(events.UserSignedUp{User: u.ID.String(), Email: u.Email, Via: via}))
}
