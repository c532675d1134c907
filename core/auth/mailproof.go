package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Mailbox proof (AUTH-16). An account's mailbox is proven when someone
// presents a secret that was mailed to it (a sign-up verification link, a
// password reset link, a magic link, an invitation) or an identity
// provider asserts the address as verified. Until then a password does not
// sign in. The first proof for an account that was never verified is a
// change of hands: whoever set the credentials before it did not prove
// the mailbox, so they are removed (password, identity links) and every
// session of the account, in every shop, ends.

// credentialsTx is the part of a global unit of work that holds an
// account's credentials: what proveMailbox and createVerified touch.
type credentialsTx interface {
	Users() ports.UserRepo
	Passwords() ports.PasswordRepo
	Identities() ports.IdentityRepo
}

// proveMailbox records a mailbox proof for user in tx at at. On the
// account's first proof it removes the password and identity links set
// before it and ends every session created before at (in every shop), and
// reports first. Later proofs change nothing.
func proveMailbox(ctx context.Context, tx credentialsTx, user ports.UserID, at time.Time) (first bool, err error) {
	first, err = tx.Users().MarkVerified(ctx, user, at)
	if err != nil || !first {
		return false, err
	}
	if err := tx.Passwords().Delete(ctx, user); err != nil {
		return false, err
	}
	if _, err := tx.Identities().DeleteByUser(ctx, user); err != nil {
		return false, err
	}
	if err := tx.Users().EndSessions(ctx, user, at); err != nil {
		return false, err
	}
	return true, nil
}

// AccountForProvenMailbox returns the account of an address whose mailbox
// the caller has just proven by other means (an accepted invitation's
// mailed token), for use cases in other core packages. An existing
// account gets the proof (the first one removes its earlier password and
// identity links and ends its sessions everywhere); name and password are
// ignored for it. When there is none, an account is created, verified,
// with name and password (an empty password makes one that signs in by
// link or OpenID Connect only). ErrInvalid for a bad address or a password
// the policy refuses. Sessions the caller mints after it returns stay
// valid.
func (s *Service) AccountForProvenMailbox(ctx context.Context, email, name, password string, c Client) (ports.User, error) {
	email = ports.NormalizeEmail(email)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.User{}, err
	}
	existing, err := s.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return ports.User{}, fmt.Errorf("read account: %w", err)
	}
	var hash string
	if existing.ID.IsZero() && password != "" {
		if err := s.checkPassword(password, email); err != nil {
			return ports.User{}, err
		}
		if hash, err = s.hasher.Hash(ctx, password); err != nil {
			return ports.User{}, fmt.Errorf("hash password: %w", err)
		}
	}
	now := s.clock.Now()
	var user ports.User
	var first, created bool
	var shops []ports.ShopID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			user, err = s.createVerified(ctx, tx, email, strings.TrimSpace(name), hash, now)
			created = err == nil
			return err
		} else if err != nil {
			return err
		}
		user = u
		if first, err = proveMailbox(ctx, tx, u.ID, now); err != nil || !first {
			return err
		}
		shops, err = tx.Users().Shops(ctx, u.ID)
		return err
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("prove mailbox: %w", err)
	}
	if first {
		s.auditInShops(ctx, user.ID, shops, ports.SessionID{}, c, provenEvent(user.ID))
	}
	if created {
		s.signedUp(ctx, user, "invitation")
	}
	return user, nil
}

// proveByLink records the mailbox proof of a magic link that signed user
// in, after the session keep was minted: on the first proof the sessions
// created before at end, keep (created at or after at) stays.
func (s *Service) proveByLink(ctx context.Context, user ports.UserID, keep ports.SessionID, at time.Time, c Client) error {
	var first bool
	var shops []ports.ShopID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if first, err = proveMailbox(ctx, tx, user, at); err != nil || !first {
			return err
		}
		shops, err = tx.Users().Shops(ctx, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("prove mailbox: %w", err)
	}
	if first {
		s.auditInShops(ctx, user, shops, keep, c, provenEvent(user))
	}
	return nil
}

// createVerified creates a verified account in tx, with a password hash
// when hash is set.
func (s *Service) createVerified(ctx context.Context, tx credentialsTx, email, name, hash string, at time.Time) (ports.User, error) {
	u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: name, VerifiedAt: at})
	if err != nil {
		return ports.User{}, err
	}
	if hash != "" {
		if err := tx.Passwords().Set(ctx, u.ID, hash); err != nil {
			return ports.User{}, err
		}
	}
	return u, nil
}

// provenEvent is the audit event of an account's first mailbox proof.
func provenEvent(user ports.UserID) event {
	return event{actor: "user:" + user.String(), action: "auth.mailbox.proven", target: "user:" + user.String(),
		outcome: ports.OutcomeSuccess, after: map[string]any{"credentials_removed": true}}
}

// auditInShops deletes the session rows user has in each shop but keep
// (the session epoch already ended them) and appends e, with the number
// deleted, to each shop's log, each shop in its own unit of work after the
// global change committed (a unit of work spans one shop). A failure is
// logged and the next shop is tried: the change it records has happened.
func (s *Service) auditInShops(ctx context.Context, user ports.UserID, shops []ports.ShopID, keep ports.SessionID, c Client, e event) {
	for _, shop := range shops {
		err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			n, err := tx.Sessions().DeleteByUser(ctx, user, keep)
			if err != nil {
				return err
			}
			ev := e
			after := map[string]any{"sessions_revoked_here": n}
			if m, ok := e.after.(map[string]any); ok {
				for k, v := range m {
					after[k] = v
				}
			}
			ev.after = after
			return s.appendAudit(ctx, tx, c, ev)
		})
		if err != nil {
			s.log.ErrorContext(ctx, "audit in a shop of the account failed", "action", e.action, "shop", shop.String(), "error", err)
		}
	}
}
