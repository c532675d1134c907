package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// SignUpInput is a new account.
type SignUpInput struct {
	Email    string
	Name     string
	Password string
	Client   Client
}

// SignUp creates a user with a password, charged to the client address's
// sign-up counter. The account belongs to no shop until a membership is
// added, so it creates no session. ErrInvalid names the refused field
// (the password policy of AUTH-3 included); ErrConflict if the e-mail is
// taken. Nothing is written on error.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (ports.User, error) {
	c := in.Client.clean()
	if err := s.charge(ctx, ports.ShopID{}, c, "signup", ipLimit("signup", c.IP, s.cfg.Limits.SignUpPerIP)); err != nil {
		return ports.User{}, err
	}
	if err := s.checkPassword(in.Password, ports.NormalizeEmail(in.Email)); err != nil {
		return ports.User{}, err
	}
	return s.CreateUser(ctx, in.Email, in.Name, in.Password)
}

// CreateUser creates a user, without rate limits; for operators and the
// CLI. An empty password creates an account that signs in by magic link or
// OpenID Connect only. Errors as SignUp's.
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (ports.User, error) {
	email = ports.NormalizeEmail(email)
	name = strings.TrimSpace(name)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.User{}, err
	}
	var hash string
	if password != "" {
		if err := s.checkPassword(password, email); err != nil {
			return ports.User{}, err
		}
		var err error
		if hash, err = s.hasher.Hash(ctx, password); err != nil {
			return ports.User{}, fmt.Errorf("hash password: %w", err)
		}
	}
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: name})
		if err != nil {
			return err
		}
		user = u
		if hash == "" {
			return nil
		}
		return tx.Passwords().Set(ctx, u.ID, hash)
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("create user: %w", err)
	}
	return user, nil
}

// checkPassword applies the policy and the hasher's input bound.
func (s *Service) checkPassword(password, email string) error {
	if len(password) > maxPasswordBytes {
		return ports.Invalid("password", fmt.Sprintf("must be at most %d bytes", maxPasswordBytes))
	}
	return s.policy.Check(password, email)
}
