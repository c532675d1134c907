package porttest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// passwordOf reads user's hash in a read-only global unit of work.
func passwordOf(s ports.Store, user ports.UserID) (string, error) {
	var hash string
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		hash, err = tx.Passwords().Get(ctx, user)
		return err
	}, ports.ReadOnly())
	return hash, err
}

// setPassword runs Set in its own global unit of work.
func setPassword(s ports.Store, user ports.UserID, hash string) error {
	return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.Passwords().Set(ctx, user, hash)
	})
}

func testPasswords(t *testing.T, newStore StoreHarness) {
	const (
		argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
		bcryp = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
	)

	t.Run("SetGetReplace", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		require.NoError(t, setPassword(s, alice, bcryp))
		got, err := passwordOf(s, alice)
		require.NoError(t, err)
		assert.Equal(t, bcryp, got)
		require.NoError(t, setPassword(s, alice, argon), "Set replaces (a re-hash on sign-in)")
		got, err = passwordOf(s, alice)
		require.NoError(t, err)
		assert.Equal(t, argon, got)
		longest := strings.Repeat("h", 1024)
		require.NoError(t, setPassword(s, bob, longest), "1024 bytes is allowed")
		got, err = passwordOf(s, bob)
		require.NoError(t, err)
		assert.Equal(t, longest, got)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		_, err := passwordOf(s, f.users[0].ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "a user without a password")
		_, err = passwordOf(s, ports.NewUserID())
		require.ErrorIs(t, err, ports.ErrNotFound, "an unknown user")
		require.ErrorIs(t, setPassword(s, ports.NewUserID(), argon), ports.ErrNotFound, "Set for an unknown user")
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		require.NoError(t, setPassword(s, alice, argon))
		tests := []struct {
			name string
			user ports.UserID
			give string
		}{
			{"empty", bob, ""},
			{"over 1024 bytes", bob, strings.Repeat("h", 1025)},
			{"empty over an existing hash", alice, ""},
			{"long over an existing hash", alice, strings.Repeat("h", 1025)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					return tx.Passwords().Set(ctx, tt.user, tt.give)
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		_, err := passwordOf(s, bob)
		require.ErrorIs(t, err, ports.ErrNotFound, "nothing was written")
		got, err := passwordOf(s, alice)
		require.NoError(t, err)
		assert.Equal(t, argon, got, "the existing hash is unchanged")
	})
}
