package porttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// ssoOp runs do in its own global unit of work and returns its error.
func ssoOp(s ports.Store, do func(ctx context.Context, tx ports.GlobalTx) error) error {
	return s.Global(context.Background(), do)
}

func newOrg(t *testing.T, s ports.Store) ports.OrgID {
	t.Helper()
	var id ports.OrgID
	require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
		o, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Other org"})
		id = o.ID
		return err
	}))
	return id
}

// testSSO runs the SSO connection and org domain contract (AUTH-14).
func testSSO(t *testing.T, newStore StoreHarness) {
	t.Run("connection put get replace delete", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		conn := ports.SSOConnection{
			OrgID: f.org.ID, Issuer: "https://idp.example.com", ClientID: "client-1", SealedSecret: []byte("sealed"),
			DefaultRole: ports.RoleTech, Enabled: true, UpdatedBy: "user:x",
		}
		var got ports.SSOConnection
		err := ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.SSOConnections().Get(ctx, f.org.ID)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)

		require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			got, err = tx.SSOConnections().Put(ctx, conn)
			return err
		}))
		assert.Equal(t, conn.Issuer, got.Issuer)
		assert.False(t, got.CreatedAt.IsZero())
		assert.True(t, got.BreakGlass.IsZero())

		conn.Mandatory, conn.BreakGlass, conn.Issuer, conn.DefaultRole = true, f.users[0].ID, "https://idp2.example.com", ports.RoleViewer
		var again, read ports.SSOConnection
		require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			if again, err = tx.SSOConnections().Put(ctx, conn); err != nil {
				return err
			}
			read, err = tx.SSOConnections().Get(ctx, f.org.ID)
			return err
		}))
		assert.Equal(t, got.CreatedAt, again.CreatedAt, "replacing keeps the creation time")
		assert.Equal(t, again, read)
		assert.True(t, read.Mandatory)
		assert.Equal(t, f.users[0].ID, read.BreakGlass)
		assert.Equal(t, "https://idp2.example.com", read.Issuer)
		assert.Equal(t, ports.RoleViewer, read.DefaultRole)
		assert.Equal(t, []byte("sealed"), read.SealedSecret)

		require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error { return tx.SSOConnections().Delete(ctx, f.org.ID) }))
		require.ErrorIs(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error { return tx.SSOConnections().Delete(ctx, f.org.ID) }), ports.ErrNotFound)
	})

	t.Run("connection refusals", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 0)
		good := ports.SSOConnection{OrgID: f.org.ID, Issuer: "https://idp.example.com", ClientID: "c", SealedSecret: []byte("x"), DefaultRole: ports.RoleTech, UpdatedBy: "user:x"}
		put := func(c ports.SSOConnection) error {
			return ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
				_, err := tx.SSOConnections().Put(ctx, c)
				return err
			})
		}
		bad := good
		bad.DefaultRole = "wizard"
		require.ErrorIs(t, put(bad), ports.ErrInvalid)
		bad = good
		bad.SealedSecret = nil
		require.ErrorIs(t, put(bad), ports.ErrInvalid)
		bad = good
		bad.OrgID = ports.NewOrgID()
		require.ErrorIs(t, put(bad), ports.ErrNotFound, "unknown org")
		bad = good
		bad.BreakGlass = ports.NewUserID()
		require.ErrorIs(t, put(bad), ports.ErrNotFound, "unknown break-glass user")
	})

	t.Run("domains claimed by two orgs, verified by one", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 0)
		other := newOrg(t, s)
		add := func(org ports.OrgID, domain string) (ports.OrgDomain, error) {
			var d ports.OrgDomain
			err := ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
				var err error
				d, err = tx.OrgDomains().Add(ctx, ports.OrgDomain{OrgID: org, Domain: domain, Token: "tok-" + org.String()})
				return err
			})
			return d, err
		}
		verify := func(org ports.OrgID, domain string, at time.Time) (ports.OrgDomain, error) {
			var d ports.OrgDomain
			err := ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
				var err error
				d, err = tx.OrgDomains().MarkVerified(ctx, org, domain, at)
				return err
			})
			return d, err
		}
		verifiedBy := func(domain string) (ports.OrgID, error) {
			var org ports.OrgID
			err := ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
				var err error
				org, err = tx.OrgDomains().VerifiedBy(ctx, domain)
				return err
			})
			return org, err
		}

		d, err := add(f.org.ID, "Acme.Example.")
		require.NoError(t, err)
		assert.Equal(t, "acme.example", d.Domain, "normalised")
		assert.False(t, d.Verified())
		_, err = add(f.org.ID, "acme.example")
		require.ErrorIs(t, err, ports.ErrConflict, "the org claims it already")
		_, err = add(other, "acme.example")
		require.NoError(t, err, "another org may claim it too")
		_, err = add(f.org.ID, "not a domain")
		require.ErrorIs(t, err, ports.ErrInvalid)
		_, err = add(ports.NewOrgID(), "x.example")
		require.ErrorIs(t, err, ports.ErrNotFound)

		_, err = verifiedBy("acme.example")
		require.ErrorIs(t, err, ports.ErrNotFound, "claimed is not verified")

		at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		v, err := verify(f.org.ID, "acme.example", at)
		require.NoError(t, err)
		assert.True(t, v.Verified())
		assert.True(t, at.Equal(v.VerifiedAt))
		v, err = verify(f.org.ID, "ACME.example", at.Add(time.Hour))
		require.NoError(t, err)
		assert.True(t, at.Equal(v.VerifiedAt), "verifying again keeps the first time")

		_, err = verify(other, "acme.example", at)
		require.ErrorIs(t, err, ports.ErrConflict, "verified by one org only")
		_, err = verify(other, "never-claimed.example", at)
		require.ErrorIs(t, err, ports.ErrNotFound)

		org, err := verifiedBy("acme.example")
		require.NoError(t, err)
		assert.Equal(t, f.org.ID, org)

		var list []ports.OrgDomain
		require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			list, err = tx.OrgDomains().List(ctx, other)
			return err
		}))
		require.Len(t, list, 1)
		assert.False(t, list[0].Verified(), "the other org's claim stays pending")

		// Once the first org gives it up, the other may verify it.
		require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.OrgDomains().Remove(ctx, f.org.ID, "acme.example")
		}))
		require.ErrorIs(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.OrgDomains().Remove(ctx, f.org.ID, "acme.example")
		}), ports.ErrNotFound)
		_, err = verify(other, "acme.example", at)
		require.NoError(t, err)
		org, err = verifiedBy("acme.example")
		require.NoError(t, err)
		assert.Equal(t, other, org)
	})

	t.Run("racing verifications: one wins", func(t *testing.T) {
		s := newStore(t)
		orgs := []ports.OrgID{seed(t, s, 0, 0).org.ID, newOrg(t, s), newOrg(t, s), newOrg(t, s)}
		for _, o := range orgs {
			require.NoError(t, ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
				_, err := tx.OrgDomains().Add(ctx, ports.OrgDomain{OrgID: o, Domain: "race.example", Token: "t"})
				return err
			}))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(orgs))
		for i, o := range orgs {
			wg.Go(func() {
				errs[i] = ssoOp(s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.OrgDomains().MarkVerified(ctx, o, "race.example", time.Now())
					return err
				})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, ports.ErrConflict)
		}
		assert.Equal(t, 1, won)
	})
}
