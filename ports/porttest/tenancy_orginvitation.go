package porttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// orgInvitationOp runs do on the org invitation repository in its own
// global unit of work and returns what it returned.
func orgInvitationOp(s ports.Store, do func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error)) (ports.OrgInvitation, error) {
	var out ports.OrgInvitation
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = do(ctx, tx.OrgInvitations())
		return err
	})
	return out, err
}

func newOrgInvitation(org ports.OrgID, expires time.Time) ports.OrgInvitation {
	return ports.OrgInvitation{
		ID: ports.NewInvitationID(), OrgID: org, TokenHash: tokenHash(), Email: "dana@example.com",
		Role: ports.OrgAdmin, ExpiresAt: expires,
	}
}

func createOrgInvitation(t *testing.T, s ports.Store, in ports.OrgInvitation) ports.OrgInvitation {
	t.Helper()
	out, err := orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
		return r.Create(ctx, in)
	})
	require.NoError(t, err)
	return out
}

func listOrgInvitations(t *testing.T, s ports.Store, org ports.OrgID, pendingAt time.Time) []ports.OrgInvitation {
	t.Helper()
	var out []ports.OrgInvitation
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.OrgInvitations().List(ctx, org, pendingAt)
		return err
	}, ports.ReadOnly()))
	return out
}

// testOrgInvitations: org roles are offered by invitation and exist only
// once accepted. The cases attack the token: another org's, used,
// declined, revoked or expired tokens match nothing.
func testOrgInvitations(t *testing.T, newStore StoreHarness) {
	t.Run("CreatePendingList", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		before := time.Now().Add(-time.Minute)
		in := newOrgInvitation(f.org.ID, time.Now().Add(72*time.Hour+999*time.Nanosecond))
		in.Email, in.InvitedBy = "  Dana.Smith@Example.COM ", f.users[0].ID
		in.AcceptedAt, in.AcceptedBy, in.DeclinedAt, in.RevokedAt = time.Now(), f.users[0].ID, time.Now(), time.Now() // ignored
		created := createOrgInvitation(t, s, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		want := ports.OrgInvitation{
			ID: in.ID, OrgID: f.org.ID, TokenHash: in.TokenHash, Email: "dana.smith@example.com", Role: ports.OrgAdmin,
			InvitedBy: f.users[0].ID, CreatedAt: created.CreatedAt, ExpiresAt: ports.Timestamp(in.ExpiresAt),
		}
		assert.Equal(t, want, created)
		got, err := orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
			return r.Pending(ctx, f.org.ID, in.TokenHash, time.Now())
		})
		require.NoError(t, err)
		assert.Equal(t, want, got, "every field round-trips")
		assert.Equal(t, []ports.OrgInvitation{want}, listOrgInvitations(t, s, f.org.ID, time.Now()))
		assert.Empty(t, listOrgInvitations(t, s, seed(t, s, 0, 0).org.ID, time.Time{}), "another org lists none")
	})

	t.Run("CreateRefuses", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 0)
		ok := newOrgInvitation(f.org.ID, time.Now().Add(time.Hour))
		createOrgInvitation(t, s, ok)
		tests := []struct {
			name string
			give func(*ports.OrgInvitation)
			want error
		}{
			{"zero id", func(i *ports.OrgInvitation) { i.ID = ports.InvitationID{} }, ports.ErrInvalid},
			{"zero org", func(i *ports.OrgInvitation) { i.OrgID = ports.OrgID{} }, ports.ErrInvalid},
			{"short token hash", func(i *ports.OrgInvitation) { i.TokenHash = i.TokenHash[:31] }, ports.ErrInvalid},
			{"malformed email", func(i *ports.OrgInvitation) { i.Email = "dana.example.com" }, ports.ErrInvalid},
			{"shop role", func(i *ports.OrgInvitation) { i.Role = ports.OrgRole(ports.RoleTech) }, ports.ErrInvalid},
			{"no expiry", func(i *ports.OrgInvitation) { i.ExpiresAt = time.Time{} }, ports.ErrInvalid},
			{"unknown org", func(i *ports.OrgInvitation) { i.OrgID = ports.NewOrgID() }, ports.ErrNotFound},
			{"unknown inviter", func(i *ports.OrgInvitation) { i.InvitedBy = ports.NewUserID() }, ports.ErrNotFound},
			{"taken token hash", func(i *ports.OrgInvitation) { i.TokenHash = ok.TokenHash }, ports.ErrConflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := newOrgInvitation(f.org.ID, time.Now().Add(time.Hour))
				tt.give(&in)
				_, err := orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
					return r.Create(ctx, in)
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Len(t, listOrgInvitations(t, s, f.org.ID, time.Time{}), 1, "nothing was written by the refusals")
	})

	t.Run("AnotherOrgsTokenMatchesNothing", func(t *testing.T) {
		s := newStore(t)
		f, other := seed(t, s, 0, 1), seed(t, s, 0, 0)
		inv := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, time.Now().Add(time.Hour)))
		now := time.Now()
		for name, op := range map[string]func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error){
			"Pending": func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Pending(ctx, other.org.ID, inv.TokenHash, now)
			},
			"Accept": func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Accept(ctx, other.org.ID, inv.TokenHash, f.users[0].ID, now)
			},
			"Decline": func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Decline(ctx, other.org.ID, inv.TokenHash, now)
			},
			"Revoke": func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Revoke(ctx, other.org.ID, inv.ID, now)
			},
		} {
			_, err := orgInvitationOp(s, op)
			require.ErrorIs(t, err, ports.ErrNotFound, name)
		}
		assert.True(t, listOrgInvitations(t, s, f.org.ID, time.Time{})[0].Pending(time.Now()), "the invitation is untouched")
	})

	t.Run("AcceptIsSingleUse", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		inv := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, time.Now().Add(time.Hour)))
		accept := func(user ports.UserID) (ports.OrgInvitation, error) {
			return orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Accept(ctx, f.org.ID, inv.TokenHash, user, time.Now())
			})
		}
		_, err := accept(ports.NewUserID())
		require.ErrorIs(t, err, ports.ErrNotFound, "an unknown user")
		got, err := accept(f.users[0].ID)
		require.NoError(t, err)
		assert.Equal(t, f.users[0].ID, got.AcceptedBy)
		assert.False(t, got.AcceptedAt.IsZero())
		_, err = accept(f.users[1].ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "a used token")
		_, err = orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
			return r.Decline(ctx, f.org.ID, inv.TokenHash, time.Now())
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "an accepted invitation cannot be declined")
		assert.Empty(t, listOrgInvitations(t, s, f.org.ID, time.Now()))
		assert.Empty(t, orgMembersOf(t, s, f.org.ID), "Accept creates no org role by itself")
	})

	t.Run("DeclinedRevokedAndExpiredCannotBeAccepted", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		now := ports.Timestamp(time.Now())
		declined := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, now.Add(time.Hour)))
		revoked := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, now.Add(time.Hour)))
		expired := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, now.Add(time.Minute)))
		got, err := orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
			return r.Decline(ctx, f.org.ID, declined.TokenHash, now)
		})
		require.NoError(t, err)
		assert.Equal(t, now, got.DeclinedAt)
		got, err = orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
			return r.Revoke(ctx, f.org.ID, revoked.ID, now)
		})
		require.NoError(t, err)
		assert.Equal(t, now, got.RevokedAt)
		for name, c := range map[string]struct {
			hash []byte
			at   time.Time
		}{"declined": {declined.TokenHash, now}, "revoked": {revoked.TokenHash, now}, "expired": {expired.TokenHash, now.Add(time.Minute)}} {
			_, err := orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
				return r.Accept(ctx, f.org.ID, c.hash, f.users[0].ID, c.at)
			})
			require.ErrorIs(t, err, ports.ErrNotFound, name)
		}
		assert.Equal(t, []ports.InvitationID{expired.ID}, orgInvitationIDs(listOrgInvitations(t, s, f.org.ID, now)), "only the unexpired one is pending")
		var n int
		require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			n, err = tx.OrgInvitations().DeleteExpired(ctx, now.Add(2*time.Hour))
			return err
		}))
		assert.Equal(t, 3, n, "every never-accepted invitation that expired is swept")
	})

	t.Run("ConcurrentAcceptSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		const racers = 8
		f := seed(t, s, 0, racers)
		inv := createOrgInvitation(t, s, newOrgInvitation(f.org.ID, time.Now().Add(time.Hour)))
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = orgInvitationOp(s, func(ctx context.Context, r ports.OrgInvitationRepo) (ports.OrgInvitation, error) {
					return r.Accept(ctx, f.org.ID, inv.TokenHash, f.users[i].ID, time.Now())
				})
			})
		}
		close(start)
		wg.Wait()
		wins, losses := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ports.ErrNotFound):
				losses++
			}
		}
		assert.Equal(t, 1, wins, "%v", errs)
		assert.Equal(t, racers-1, losses, "%v", errs)
	})
}

func orgInvitationIDs(list []ports.OrgInvitation) []ports.InvitationID {
	out := make([]ports.InvitationID, len(list))
	for i, inv := range list {
		out[i] = inv.ID
	}
	return out
}
