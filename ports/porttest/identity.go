package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// link stores i in its own global unit of work and requires success.
func link(t *testing.T, s ports.Store, i ports.Identity) ports.Identity {
	t.Helper()
	var out ports.Identity
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Identities().Link(ctx, i)
		return err
	}))
	return out
}

// identityOf reads the link for (issuer, subject).
func identityOf(s ports.Store, issuer, subject string) (ports.Identity, error) {
	var out ports.Identity
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Identities().Get(ctx, issuer, subject)
		return err
	}, ports.ReadOnly())
	return out, err
}

// identitiesOf lists user's links and requires success.
func identitiesOf(t *testing.T, s ports.Store, user ports.UserID) []ports.Identity {
	t.Helper()
	var out []ports.Identity
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Identities().ListByUser(ctx, user)
		return err
	}, ports.ReadOnly()))
	return out
}

func testIdentities(t *testing.T, newStore StoreHarness) {
	const google = "https://accounts.google.com"

	t.Run("LinkGetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		before := time.Now().Add(-time.Minute)
		in := ports.Identity{
			Issuer: google, Subject: "110169484474386276334", UserID: f.users[0].ID, Email: "dana@example.com",
			CreatedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), // ignored: the store stamps it
		}
		created := link(t, s, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		want := in
		want.CreatedAt = created.CreatedAt
		assert.Equal(t, want, created, "Link returns the identity as stored")
		got, err := identityOf(s, google, in.Subject)
		require.NoError(t, err)
		assert.Equal(t, created, got)
		_, err = identityOf(s, google, "someone-else")
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = identityOf(s, "https://issuer.example", in.Subject)
		require.ErrorIs(t, err, ports.ErrNotFound, "a subject is only unique within its issuer")
	})

	t.Run("ListByUserInCreationOrder", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		first := link(t, s, ports.Identity{Issuer: "https://a.example", Subject: "same", UserID: alice})
		second := link(t, s, ports.Identity{Issuer: "https://b.example", Subject: "same", UserID: alice})
		bobs := link(t, s, ports.Identity{Issuer: "https://a.example", Subject: "other", UserID: bob})
		assert.Equal(t, []ports.Identity{first, second}, identitiesOf(t, s, alice), "one subject at two issuers is two identities")
		assert.Equal(t, []ports.Identity{bobs}, identitiesOf(t, s, bob))
		assert.Empty(t, identitiesOf(t, s, ports.NewUserID()), "an unknown user has no links, not an error")
	})

	t.Run("RefusesTakenIdentityAndUnknownUser", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		orig := link(t, s, ports.Identity{Issuer: google, Subject: "123", UserID: alice})
		tests := []struct {
			name string
			give ports.Identity
			want error
		}{
			{"linked to another user", ports.Identity{Issuer: google, Subject: "123", UserID: bob}, ports.ErrConflict},
			{"linked to the same user", ports.Identity{Issuer: google, Subject: "123", UserID: alice}, ports.ErrConflict},
			{"unknown user", ports.Identity{Issuer: google, Subject: "456", UserID: ports.NewUserID()}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Identities().Link(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		got, err := identityOf(s, google, "123")
		require.NoError(t, err)
		assert.Equal(t, orig, got, "the link still points at its first user")
		assert.Empty(t, identitiesOf(t, s, bob))
		_, err = identityOf(s, google, "456")
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		user := f.users[0].ID
		longest := strings.Repeat("x", 255)
		tests := []struct {
			name            string
			issuer, subject string
		}{
			{"empty issuer", "", "sub"},
			{"empty subject", google, ""},
			{"issuer over 255 bytes", longest + "x", "sub"},
			{"subject over 255 bytes", google, longest + "x"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Identities().Link(ctx, ports.Identity{Issuer: tt.issuer, Subject: tt.subject, UserID: user})
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Empty(t, identitiesOf(t, s, user), "refused links left nothing behind")
		edge := link(t, s, ports.Identity{Issuer: longest, Subject: longest, UserID: user})
		assert.Equal(t, []ports.Identity{edge}, identitiesOf(t, s, user), "255 bytes is allowed")
	})
}
