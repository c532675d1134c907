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

// factorOp runs do on the second-factor repository in its own global unit
// of work and returns its error.
func factorOp(s ports.Store, do func(ctx context.Context, r ports.SecondFactorRepo) error) error {
	return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error { return do(ctx, tx.SecondFactors()) })
}

func getTOTP(s ports.Store, o ports.FactorOwner) (ports.TOTPFactor, error) {
	var out ports.TOTPFactor
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.SecondFactors().TOTP(ctx, o)
		return err
	}, ports.ReadOnly())
	return out, err
}

func putPending(s ports.Store, o ports.FactorOwner, sealed string) (ports.TOTPFactor, error) {
	var out ports.TOTPFactor
	err := factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
		var err error
		out, err = r.PutPendingTOTP(ctx, ports.TOTPFactor{Owner: o, SealedSecret: []byte(sealed)})
		return err
	})
	return out, err
}

func confirmTOTP(s ports.Store, o ports.FactorOwner, step int64, at time.Time) (ports.TOTPFactor, error) {
	var out ports.TOTPFactor
	err := factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
		var err error
		out, err = r.ConfirmTOTP(ctx, o, step, at)
		return err
	})
	return out, err
}

func useStep(s ports.Store, o ports.FactorOwner, step int64) error {
	return factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error { return r.UseTOTPStep(ctx, o, step) })
}

func recoveryCodes(t *testing.T, s ports.Store, o ports.FactorOwner) []ports.RecoveryCode {
	t.Helper()
	var out []ports.RecoveryCode
	require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
		var err error
		out, err = r.RecoveryCodes(ctx, o)
		return err
	}))
	return out
}

func useCode(s ports.Store, o ports.FactorOwner, hash []byte) error {
	return factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
		return r.UseRecoveryCode(ctx, o, hash, time.Now())
	})
}

// testSecondFactors runs the TOTP and recovery-code contract for a user
// and for an operator (their rows live apart), then the factor owners'
// isolation, the shop policy and the sessions' assurance fields.
func testSecondFactors(t *testing.T, newStore StoreHarness) {
	owners := func(t *testing.T, s ports.Store) map[string]ports.FactorOwner {
		f := seed(t, s, 0, 1)
		op := createOperator(t, s, "op-"+ports.NewOperatorID().String()[24:]+"@platform.example")
		return map[string]ports.FactorOwner{"user": ports.UserFactors(f.users[0].ID), "operator": ports.OperatorFactors(op.ID)}
	}

	t.Run("TOTPLifecycle", func(t *testing.T) {
		s := newStore(t)
		for kind, o := range owners(t, s) {
			t.Run(kind, func(t *testing.T) {
				_, err := getTOTP(s, o)
				require.ErrorIs(t, err, ports.ErrNotFound, "no factor yet")

				p, err := putPending(s, o, "sealed-1")
				require.NoError(t, err)
				assert.False(t, p.Confirmed())
				assert.False(t, p.CreatedAt.IsZero())
				p, err = putPending(s, o, "sealed-2")
				require.NoError(t, err, "a pending factor is replaced by a new enrolment")
				got, err := getTOTP(s, o)
				require.NoError(t, err)
				assert.Equal(t, []byte("sealed-2"), got.SealedSecret)
				assert.Equal(t, o, got.Owner)
				assert.Zero(t, got.LastStep)
				require.ErrorIs(t, useStep(s, o, 10), ports.ErrNotFound, "a pending factor is no second factor")

				at := ports.Timestamp(time.Now())
				c, err := confirmTOTP(s, o, 100, at)
				require.NoError(t, err)
				assert.True(t, c.ConfirmedAt.Equal(at))
				assert.Equal(t, int64(100), c.LastStep)
				_, err = confirmTOTP(s, o, 101, at)
				require.ErrorIs(t, err, ports.ErrConflict, "confirmed once only")
				_, err = putPending(s, o, "sealed-3")
				require.ErrorIs(t, err, ports.ErrConflict, "a confirmed factor is not replaced by an enrolment")
				got, err = getTOTP(s, o)
				require.NoError(t, err)
				assert.Equal(t, []byte("sealed-2"), got.SealedSecret, "the refused enrolment changed nothing")

				require.ErrorIs(t, useStep(s, o, 100), ports.ErrConflict, "the confirming code's step is spent")
				require.ErrorIs(t, useStep(s, o, 99), ports.ErrConflict, "an older step is refused")
				require.NoError(t, useStep(s, o, 101))
				require.ErrorIs(t, useStep(s, o, 101), ports.ErrConflict, "a replayed step is refused")
				require.NoError(t, useStep(s, o, 103))
				got, err = getTOTP(s, o)
				require.NoError(t, err)
				assert.Equal(t, int64(103), got.LastStep)

				require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
					return r.ReplaceRecoveryCodes(ctx, o, [][]byte{tokenHash()})
				}))
				require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error { return r.DeleteTOTP(ctx, o) }))
				_, err = getTOTP(s, o)
				require.ErrorIs(t, err, ports.ErrNotFound)
				assert.Empty(t, recoveryCodes(t, s, o), "disabling the factor removes the recovery codes")
				require.ErrorIs(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error { return r.DeleteTOTP(ctx, o) }), ports.ErrNotFound)
				_, err = confirmTOTP(s, o, 1, at)
				require.ErrorIs(t, err, ports.ErrNotFound)
				_, err = putPending(s, o, "sealed-4")
				require.NoError(t, err, "enrolment starts over after a disable")
			})
		}
	})

	t.Run("ConcurrentUseOfOneStep", func(t *testing.T) {
		s := newStore(t)
		o := owners(t, s)["user"]
		_, err := putPending(s, o, "sealed")
		require.NoError(t, err)
		_, err = confirmTOTP(s, o, 1, time.Now())
		require.NoError(t, err)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = useStep(s, o, 2) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			assert.ErrorIs(t, err, ports.ErrConflict)
		}
		assert.Equal(t, 1, won, "one code, one use")
	})

	t.Run("RecoveryCodes", func(t *testing.T) {
		s := newStore(t)
		os := owners(t, s)
		for kind, o := range os {
			t.Run(kind, func(t *testing.T) {
				hashes := [][]byte{tokenHash(), tokenHash(), tokenHash()}
				require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
					return r.ReplaceRecoveryCodes(ctx, o, hashes)
				}))
				codes := recoveryCodes(t, s, o)
				require.Len(t, codes, 3)
				for _, c := range codes {
					assert.False(t, c.Used())
					assert.Contains(t, hashes, c.Hash)
				}
				require.NoError(t, useCode(s, o, hashes[1]))
				require.ErrorIs(t, useCode(s, o, hashes[1]), ports.ErrNotFound, "a used code is refused")
				require.ErrorIs(t, useCode(s, o, tokenHash()), ports.ErrNotFound, "an unknown code is refused")
				require.ErrorIs(t, useCode(s, o, []byte("short")), ports.ErrNotFound)
				used := 0
				for _, c := range recoveryCodes(t, s, o) {
					if c.Used() {
						used++
						assert.Equal(t, hashes[1], c.Hash)
					}
				}
				assert.Equal(t, 1, used)

				fresh := [][]byte{tokenHash()}
				require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
					return r.ReplaceRecoveryCodes(ctx, o, fresh)
				}))
				require.ErrorIs(t, useCode(s, o, hashes[0]), ports.ErrNotFound, "regenerating retires the old codes")
				require.Len(t, recoveryCodes(t, s, o), 1)
			})
		}

		t.Run("Refused", func(t *testing.T) {
			o := os["user"]
			h := tokenHash()
			for name, hashes := range map[string][][]byte{
				"short hash":    {[]byte("x")},
				"repeated hash": {h, h},
				"too many":      make([][]byte, ports.MaxRecoveryCodes+1),
			} {
				err := factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
					return r.ReplaceRecoveryCodes(ctx, o, hashes)
				})
				assert.ErrorIs(t, err, ports.ErrInvalid, name)
			}
			err := factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
				return r.ReplaceRecoveryCodes(ctx, ports.UserFactors(ports.NewUserID()), [][]byte{tokenHash()})
			})
			assert.ErrorIs(t, err, ports.ErrNotFound, "an unknown user")
		})
	})

	t.Run("OwnersApart", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := ports.UserFactors(f.users[0].ID), ports.UserFactors(f.users[1].ID)
		op := ports.OperatorFactors(ports.OperatorID{UUID: f.users[0].ID.UUID}) // an operator ID spelled like alice's user ID
		_, err := putPending(s, alice, "alice")
		require.NoError(t, err)
		_, err = confirmTOTP(s, alice, 5, time.Now())
		require.NoError(t, err)
		codes := [][]byte{tokenHash()}
		require.NoError(t, factorOp(s, func(ctx context.Context, r ports.SecondFactorRepo) error {
			return r.ReplaceRecoveryCodes(ctx, alice, codes)
		}))

		_, err = getTOTP(s, bob)
		assert.ErrorIs(t, err, ports.ErrNotFound, "bob does not see alice's factor")
		assert.ErrorIs(t, useStep(s, bob, 6), ports.ErrNotFound)
		assert.ErrorIs(t, useCode(s, bob, codes[0]), ports.ErrNotFound, "alice's code is not bob's")
		_, err = getTOTP(s, op)
		assert.ErrorIs(t, err, ports.ErrNotFound, "operators' factors are apart from users'")
		assert.ErrorIs(t, useCode(s, op, codes[0]), ports.ErrNotFound)
		assert.Empty(t, recoveryCodes(t, s, bob))
		require.NoError(t, useCode(s, alice, codes[0]), "alice's code still works for alice")

		for name, o := range map[string]ports.FactorOwner{
			"nobody": {},
			"both":   {User: f.users[0].ID, Operator: ports.NewOperatorID()},
		} {
			_, err := getTOTP(s, o)
			assert.ErrorIs(t, err, ports.ErrInvalid, name)
			assert.ErrorIs(t, useStep(s, o, 1), ports.ErrInvalid, name)
		}
		_, err = putPending(s, ports.UserFactors(ports.NewUserID()), "x")
		assert.ErrorIs(t, err, ports.ErrNotFound, "an unknown user")
		_, err = putPending(s, bob, "")
		assert.ErrorIs(t, err, ports.ErrInvalid, "an empty sealed secret")
	})

	t.Run("Policy", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		get := func() ports.TwoFactorPolicy {
			var out ports.TwoFactorPolicy
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				out, err = tx.TwoFactorPolicy().Get(ctx)
				return err
			}, ports.ReadOnly())
			return out
		}
		set := func(p ports.TwoFactorPolicy) (ports.TwoFactorPolicy, error) {
			var out ports.TwoFactorPolicy
			err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				out, err = tx.TwoFactorPolicy().Set(ctx, p)
				return err
			})
			return out, err
		}
		assert.Equal(t, ports.TwoFactorPolicy{}, get(), "never set: nobody is required")
		stored, err := set(ports.TwoFactorPolicy{Roles: []ports.Role{ports.RoleTech, ports.RoleOwner, ports.RoleTech}, UpdatedBy: "user:x"})
		require.NoError(t, err)
		assert.Equal(t, []ports.Role{ports.RoleOwner, ports.RoleTech}, stored.Roles)
		assert.False(t, stored.UpdatedAt.IsZero())
		assert.Equal(t, stored, get())
		assert.True(t, get().Requires(ports.RoleTech))
		assert.False(t, get().Requires(ports.RoleViewer))

		stored, err = set(ports.TwoFactorPolicy{AllMembers: true, Roles: []ports.Role{ports.RoleTech}})
		require.NoError(t, err)
		assert.Nil(t, stored.Roles, "all members: the roles are moot")
		assert.True(t, get().Requires(ports.RoleViewer))
		_, err = set(ports.TwoFactorPolicy{Roles: []ports.Role{"root"}})
		assert.ErrorIs(t, err, ports.ErrInvalid)
		assert.True(t, get().AllMembers, "the refused policy changed nothing")
		_, err = set(ports.TwoFactorPolicy{})
		require.NoError(t, err)
		assert.False(t, get().Enforcing())
	})

	t.Run("SessionAssurance", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		sess := createSession(t, s, shop, newSession(user))
		assert.Equal(t, ports.AAL1, sess.AAL, "a session without a level is AAL1")
		assert.Equal(t, sess.CreatedAt, sess.ReauthenticatedAt, "signing in is the first authentication")
		at := ports.Timestamp(time.Now().Add(time.Minute))
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Reauthenticate(ctx, sess.ID, ports.AAL2, at)
		})
		got, err := getSession(s, shop, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.AAL2, got.AAL)
		assert.True(t, got.ReauthenticatedAt.Equal(at))
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Reauthenticate(ctx, sess.ID, 3, at)
		})
		assert.ErrorIs(t, err, ports.ErrInvalid)
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Reauthenticate(ctx, ports.NewSessionID(), ports.AAL2, at)
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
		two := newSession(user)
		two.AAL = ports.AAL2
		assert.Equal(t, ports.AAL2, createSession(t, s, shop, two).AAL)

		op := createOperator(t, s, "aal@platform.example")
		var os ports.OperatorSession
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			os, err = r.CreateSession(ctx, newOperatorSession(op.ID, time.Now().Add(time.Hour)))
			return err
		}))
		assert.Equal(t, ports.AAL1, os.AAL)
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			return r.SetSessionAAL(ctx, os.ID, ports.AAL2)
		}))
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			got, _, err := r.Session(ctx, os.ID)
			assert.Equal(t, ports.AAL2, got.AAL)
			return err
		}))
		assert.ErrorIs(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			return r.SetSessionAAL(ctx, ports.NewOperatorSessionID(), ports.AAL2)
		}), ports.ErrNotFound)

		other := createOperator(t, s, "other@platform.example")
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, err := r.CreateSession(ctx, newOperatorSession(other.ID, time.Now().Add(time.Hour)))
			return err
		}))
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			n, err := r.DeleteSessionsOf(ctx, op.ID)
			assert.Equal(t, 1, n, "the operator's one session")
			return err
		}))
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, _, err := r.Session(ctx, os.ID)
			assert.ErrorIs(t, err, ports.ErrNotFound, "ended")
			n, err := r.DeleteSessionsOf(ctx, other.ID)
			assert.Equal(t, 1, n, "the other operator's session was left alone")
			return err
		}))
	})

	t.Run("ResolverReadsAssurance", func(t *testing.T) {
		s := newStore(t)
		r, ok := s.(ports.SessionResolver)
		require.Truef(t, ok, "%T does not implement ports.SessionResolver", s)
		f := seed(t, s, 2, 1)
		a, b, user := f.shops[0].ID, f.shops[1].ID, f.users[0].ID
		join(t, s, a, ports.RoleTech, user)
		join(t, s, b, ports.RoleTech, user)
		sa := createSession(t, s, a, newSession(user))
		sb := createSession(t, s, b, newSession(user))
		ctx := context.Background()

		got, err := r.ResolveSession(ctx, a, sa.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.TwoFactorPolicy{}, got.TwoFactor)
		assert.False(t, got.HasSecondFactor)

		inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.TwoFactorPolicy().Set(ctx, ports.TwoFactorPolicy{Roles: []ports.Role{ports.RoleTech, ports.RoleAdmin}})
			return err
		})
		o := ports.UserFactors(user)
		_, err = putPending(s, o, "sealed")
		require.NoError(t, err)
		got, err = r.ResolveSession(ctx, a, sa.ID)
		require.NoError(t, err)
		assert.Equal(t, []ports.Role{ports.RoleAdmin, ports.RoleTech}, got.TwoFactor.Roles, "the shop's policy applies at once")
		assert.False(t, got.HasSecondFactor, "a pending factor is no second factor")
		_, err = confirmTOTP(s, o, 1, time.Now())
		require.NoError(t, err)
		got, err = r.ResolveSession(ctx, a, sa.ID)
		require.NoError(t, err)
		assert.True(t, got.HasSecondFactor)

		got, err = r.ResolveSession(ctx, b, sb.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.TwoFactorPolicy{}, got.TwoFactor, "shop A's policy is not shop B's")
		assert.True(t, got.HasSecondFactor, "the factor is the user's, in every shop")
	})
}

// testTwoFactorPolicyTenantBoundary: one shop's policy is neither read nor
// changed from another shop's unit of work.
func testTwoFactorPolicyTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.TwoFactorPolicy().Set(ctx, ports.TwoFactorPolicy{AllMembers: true})
		return err
	})
	inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
		p, err := tx.TwoFactorPolicy().Get(ctx)
		require.NoError(t, err)
		assert.False(t, p.Enforcing(), "B does not see A's policy")
		_, err = tx.TwoFactorPolicy().Set(ctx, ports.TwoFactorPolicy{Roles: []ports.Role{ports.RoleViewer}})
		return err
	})
	inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
		p, err := tx.TwoFactorPolicy().Get(ctx)
		require.NoError(t, err)
		assert.True(t, p.AllMembers, "B's write did not reach A")
		assert.Nil(t, p.Roles)
		return nil
	}, ports.ReadOnly())
}
