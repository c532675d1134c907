package porttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

const fakeHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

// createOperator stores an operator with email through a global unit of
// work and requires success.
func createOperator(t *testing.T, s ports.Store, email string) ports.Operator {
	t.Helper()
	var out ports.Operator
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: email, Name: "Op"}, fakeHash)
		return err
	}))
	return out
}

// operatorOp runs do on the operator repository in its own global unit of
// work and returns its error.
func operatorOp(s ports.Store, do func(ctx context.Context, r ports.OperatorRepo) error) error {
	return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error { return do(ctx, tx.Operators()) })
}

func newOperatorSession(op ports.OperatorID, expires time.Time) ports.OperatorSession {
	return ports.OperatorSession{ID: ports.NewOperatorSessionID(), OperatorID: op, TokenHash: tokenHash(), UserAgent: "curl/8", IP: "192.0.2.9", ExpiresAt: expires}
}

func testOperators(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	now := ports.Timestamp(time.Now())

	t.Run("CreateGetCredentialsList", func(t *testing.T) {
		op := createOperator(t, s, "  Ops.Ann@Example.COM ")
		assert.Equal(t, "ops.ann@example.com", op.Email, "e-mail normalised")
		assert.False(t, op.CreatedAt.IsZero())
		assert.False(t, op.Disabled())
		var got ports.Operator
		var hash string
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			if got, err = r.Get(ctx, op.ID); err != nil {
				return err
			}
			var byMail ports.Operator
			byMail, hash, err = r.Credentials(ctx, "OPS.ANN@example.com")
			assert.Equal(t, op, byMail)
			return err
		}))
		assert.Equal(t, op, got)
		assert.Equal(t, fakeHash, hash)
		zed := createOperator(t, s, "zed@example.com")
		var list []ports.Operator
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			list, err = r.List(ctx)
			return err
		}))
		assert.Equal(t, []ports.Operator{op, zed}, list, "by e-mail")
	})

	t.Run("Refusals", func(t *testing.T) {
		taken := createOperator(t, s, "taken@example.com")
		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.OperatorRepo) error
			want error
		}{
			{"taken e-mail", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "TAKEN@example.com"}, fakeHash)
				return err
			}, ports.ErrConflict},
			{"taken id", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Create(ctx, ports.Operator{ID: taken.ID, Email: "other@example.com"}, fakeHash)
				return err
			}, ports.ErrConflict},
			{"bad e-mail", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "not-an-address"}, fakeHash)
				return err
			}, ports.ErrInvalid},
			{"empty hash", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "nohash@example.com"}, "")
				return err
			}, ports.ErrInvalid},
			{"unknown id", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Get(ctx, ports.NewOperatorID())
				return err
			}, ports.ErrNotFound},
			{"unknown e-mail", func(ctx context.Context, r ports.OperatorRepo) error {
				_, _, err := r.Credentials(ctx, "nobody@example.com")
				return err
			}, ports.ErrNotFound},
			{"set hash of unknown", func(ctx context.Context, r ports.OperatorRepo) error {
				return r.SetPasswordHash(ctx, ports.NewOperatorID(), fakeHash)
			}, ports.ErrNotFound},
			{"overlong hash", func(ctx context.Context, r ports.OperatorRepo) error {
				return r.SetPasswordHash(ctx, taken.ID, strings.Repeat("x", 1025))
			}, ports.ErrInvalid},
			{"disable unknown", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.Disable(ctx, ports.NewOperatorID(), now)
				return err
			}, ports.ErrNotFound},
			{"session of unknown operator", func(ctx context.Context, r ports.OperatorRepo) error {
				_, err := r.CreateSession(ctx, newOperatorSession(ports.NewOperatorID(), now.Add(time.Hour)))
				return err
			}, ports.ErrNotFound},
			{"session with a short hash", func(ctx context.Context, r ports.OperatorRepo) error {
				ss := newOperatorSession(taken.ID, now.Add(time.Hour))
				ss.TokenHash = ss.TokenHash[:16]
				_, err := r.CreateSession(ctx, ss)
				return err
			}, ports.ErrInvalid},
			{"unknown session", func(ctx context.Context, r ports.OperatorRepo) error {
				_, _, err := r.Session(ctx, ports.NewOperatorSessionID())
				return err
			}, ports.ErrNotFound},
			{"touch unknown session", func(ctx context.Context, r ports.OperatorRepo) error {
				return r.TouchSession(ctx, ports.NewOperatorSessionID(), now)
			}, ports.ErrNotFound},
			{"delete unknown session", func(ctx context.Context, r ports.OperatorRepo) error {
				return r.DeleteSession(ctx, ports.NewOperatorSessionID())
			}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var err error
				if tt.want == ports.ErrInvalid {
					// Checked before the database: the unit of work stays usable.
					err = refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error { return tt.do(ctx, tx.Operators()) })
				} else {
					err = operatorOp(s, tt.do)
				}
				require.ErrorIs(t, err, tt.want)
			})
		}
		var list []ports.Operator
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			list, err = r.List(ctx)
			return err
		}))
		for _, o := range list {
			assert.NotContains(t, []string{"other@example.com", "not-an-address", "nohash@example.com"}, o.Email, "a refused create wrote nothing")
		}
	})

	t.Run("SessionsAndPasswords", func(t *testing.T) {
		op := createOperator(t, s, "sessions@example.com")
		in := newOperatorSession(op.ID, now.Add(8*time.Hour))
		var created, got ports.OperatorSession
		var owner ports.Operator
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			if created, err = r.CreateSession(ctx, in); err != nil {
				return err
			}
			got, owner, err = r.Session(ctx, in.ID)
			return err
		}))
		assert.Equal(t, created, got)
		assert.Equal(t, op, owner, "the session comes with its operator")
		assert.Equal(t, in.TokenHash, got.TokenHash)
		assert.Equal(t, ports.Timestamp(in.ExpiresAt), got.ExpiresAt)
		assert.Equal(t, got.CreatedAt, got.LastSeenAt)

		later := now.Add(time.Minute)
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			if err := r.TouchSession(ctx, in.ID, later); err != nil {
				return err
			}
			got, _, err := r.Session(ctx, in.ID)
			assert.Equal(t, ports.Timestamp(later), got.LastSeenAt)
			if err != nil {
				return err
			}
			return r.SetPasswordHash(ctx, op.ID, "$2a$10$abcdefghijklmnopqrstuu")
		}))
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, hash, err := r.Credentials(ctx, op.Email)
			assert.Equal(t, "$2a$10$abcdefghijklmnopqrstuu", hash)
			return err
		}))

		expired := newOperatorSession(op.ID, now.Add(-time.Minute))
		idle := newOperatorSession(op.ID, now.Add(time.Hour))
		var n int
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			for _, ss := range []ports.OperatorSession{expired, idle} {
				if _, err := r.CreateSession(ctx, ss); err != nil {
					return err
				}
			}
			// idle was last seen at the store's now; the live session was
			// touched later than that.
			var err error
			n, err = r.DeleteExpiredSessions(ctx, now, later.Add(-time.Second))
			return err
		}))
		assert.Equal(t, 2, n, "the expired and the idle session")
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, _, err := r.Session(ctx, in.ID)
			return err
		}), "the live session stays")
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error { return r.DeleteSession(ctx, in.ID) }))
		require.ErrorIs(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, _, err := r.Session(ctx, in.ID)
			return err
		}), ports.ErrNotFound)
	})

	t.Run("DisableEndsSessionsOnce", func(t *testing.T) {
		op := createOperator(t, s, "disable@example.com")
		other := createOperator(t, s, "keeps@example.com")
		mine, theirs := newOperatorSession(op.ID, now.Add(time.Hour)), newOperatorSession(other.ID, now.Add(time.Hour))
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			if _, err := r.CreateSession(ctx, mine); err != nil {
				return err
			}
			_, err := r.CreateSession(ctx, theirs)
			return err
		}))
		var first, second ports.Operator
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			var err error
			if first, err = r.Disable(ctx, op.ID, now); err != nil {
				return err
			}
			second, err = r.Disable(ctx, op.ID, now.Add(time.Hour))
			return err
		}))
		assert.True(t, first.Disabled())
		assert.Equal(t, ports.Timestamp(now), first.DisabledAt)
		assert.Equal(t, first.DisabledAt, second.DisabledAt, "the first disable's time stays")
		require.ErrorIs(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, _, err := r.Session(ctx, mine.ID)
			return err
		}), ports.ErrNotFound, "a disabled operator's sessions end")
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, _, err := r.Session(ctx, theirs.ID)
			return err
		}), "another operator's session stays")
	})
}

func newImpersonation(op ports.OperatorID, user ports.UserID, now time.Time) ports.Impersonation {
	return ports.Impersonation{
		ID: ports.NewImpersonationID(), OperatorID: op, UserID: user, Reason: "  ticket #4521: invoice totals look wrong  ",
		CodeHash: tokenHash(), CodeExpiresAt: now.Add(2 * time.Minute), ExpiresAt: now.Add(time.Hour),
	}
}

// impersonationOp runs do on shop's impersonation repository in its own
// unit of work and returns what it returned.
func impersonationOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error)) (ports.Impersonation, error) {
	var out ports.Impersonation
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Impersonations())
		return err
	})
	return out, err
}

func createImpersonation(t *testing.T, s ports.Store, shop ports.ShopID, in ports.Impersonation) ports.Impersonation {
	t.Helper()
	out, err := impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
		return r.Create(ctx, in)
	})
	require.NoError(t, err)
	return out
}

func redeem(s ports.Store, shop ports.ShopID, hash []byte, now time.Time) (ports.Impersonation, error) {
	return impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
		return r.Redeem(ctx, hash, now)
	})
}

func testImpersonations(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 1, 2)
	shop := f.shops[0].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	join(t, s, shop, ports.RoleTech, alice)
	op := createOperator(t, s, "imp-ops@example.com")
	now := ports.Timestamp(time.Now())

	t.Run("CreateGetList", func(t *testing.T) {
		in := newImpersonation(op.ID, alice, now)
		got := createImpersonation(t, s, shop, in)
		assert.Equal(t, "ticket #4521: invoice totals look wrong", got.Reason, "reason trimmed")
		assert.False(t, got.CreatedAt.IsZero())
		assert.Zero(t, got.RedeemedAt)
		assert.Zero(t, got.EndedAt)
		assert.Equal(t, ports.Timestamp(in.ExpiresAt), got.ExpiresAt)
		read, err := impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.Get(ctx, in.ID)
		})
		require.NoError(t, err)
		assert.Equal(t, got, read)
		second := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		var list []ports.Impersonation
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			list, err = tx.Impersonations().List(ctx, 0)
			return err
		}, ports.ReadOnly())
		require.GreaterOrEqual(t, len(list), 2)
		assert.Equal(t, []ports.ImpersonationID{second.ID, got.ID}, []ports.ImpersonationID{list[0].ID, list[1].ID}, "newest first")
	})

	t.Run("Refusals", func(t *testing.T) {
		good := newImpersonation(op.ID, alice, now)
		taken := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		tests := []struct {
			name   string
			mutate func(*ports.Impersonation)
			want   error
		}{
			{"no reason", func(i *ports.Impersonation) { i.Reason = "   " }, ports.ErrInvalid},
			{"overlong reason", func(i *ports.Impersonation) { i.Reason = strings.Repeat("r", ports.MaxImpersonationReason+1) }, ports.ErrInvalid},
			{"control characters", func(i *ports.Impersonation) { i.Reason = "why\x00not" }, ports.ErrInvalid},
			{"short code hash", func(i *ports.Impersonation) { i.CodeHash = i.CodeHash[:31] }, ports.ErrInvalid},
			{"no expiry", func(i *ports.Impersonation) { i.ExpiresAt = time.Time{} }, ports.ErrInvalid},
			{"unknown operator", func(i *ports.Impersonation) { i.OperatorID = ports.NewOperatorID() }, ports.ErrNotFound},
			{"unknown user", func(i *ports.Impersonation) { i.UserID = ports.NewUserID() }, ports.ErrNotFound},
			{"taken id", func(i *ports.Impersonation) { i.ID = taken.ID }, ports.ErrConflict},
			{"taken code", func(i *ports.Impersonation) { i.CodeHash = taken.CodeHash }, ports.ErrConflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				in.ID = ports.NewImpersonationID()
				in.CodeHash = tokenHash()
				tt.mutate(&in)
				create := func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Impersonations().Create(ctx, in)
					return err
				}
				var err error
				if tt.want == ports.ErrInvalid {
					err = refusedInShop(t, s, shop, create)
				} else {
					err = s.InShop(context.Background(), shop, create)
				}
				require.ErrorIs(t, err, tt.want)
			})
		}
		_, err := impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.Get(ctx, ports.NewImpersonationID())
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, ports.NewImpersonationID(), now)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("RedeemOnceBeforeExpiry", func(t *testing.T) {
		in := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		got, err := redeem(s, shop, in.CodeHash, now.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, in.ID, got.ID)
		assert.Equal(t, now.Add(time.Minute), got.RedeemedAt)
		assert.Empty(t, got.CodeHash, "the code hash is gone once redeemed")
		_, err = redeem(s, shop, in.CodeHash, now.Add(time.Minute))
		require.ErrorIs(t, err, ports.ErrNotFound, "single use")

		late := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		_, err = redeem(s, shop, late.CodeHash, late.CodeExpiresAt)
		require.ErrorIs(t, err, ports.ErrNotFound, "the code expires")

		ended := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		_, err = impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, ended.ID, now)
		})
		require.NoError(t, err)
		_, err = redeem(s, shop, ended.CodeHash, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "an ended impersonation's code is dead")

		_, err = redeem(s, shop, tokenHash(), now)
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = redeem(s, shop, []byte("short"), now)
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("ConcurrentRedeemsOneWins", func(t *testing.T) {
		in := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[k] = redeem(s, shop, in.CodeHash, now)
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, ports.ErrNotFound)
			}
		}
		assert.Equal(t, 1, wins)
	})

	t.Run("EndKeepsTheFirstTime", func(t *testing.T) {
		in := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		first, err := impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, in.ID, now.Add(time.Minute))
		})
		require.NoError(t, err)
		second, err := impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, in.ID, now.Add(time.Hour))
		})
		require.NoError(t, err)
		assert.Equal(t, now.Add(time.Minute), first.EndedAt)
		assert.Equal(t, first.EndedAt, second.EndedAt)
	})

	t.Run("ImpersonationSessions", func(t *testing.T) {
		r, ok := s.(ports.SessionResolver)
		require.True(t, ok)
		imp := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		in := newSession(alice)
		in.Method, in.Impersonation, in.ExpiresAt = "impersonation", imp.ID, imp.ExpiresAt
		sess := createSession(t, s, shop, in)
		assert.Equal(t, imp.ID, sess.Impersonation)
		got, err := getSession(s, shop, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, sess, got)
		assert.Equal(t, []ports.Session{sess}, filterImpersonated(sessionsOf(t, s, shop, alice)), "the user's session list shows it")
		rs, err := r.ResolveSession(context.Background(), shop, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.ResolvedSession{Session: sess, Role: ports.RoleTech, Impersonator: op.ID}, rs)

		// A member's own session names no operator.
		own := createSession(t, s, shop, newSession(alice))
		rs, err = r.ResolveSession(context.Background(), shop, own.ID)
		require.NoError(t, err)
		assert.Zero(t, rs.Impersonator)

		// A session cannot name an impersonation that does not exist here.
		bad := newSession(alice)
		bad.Impersonation = ports.NewImpersonationID()
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Sessions().Create(ctx, bad)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)

		// Ending the impersonation ends the session's power at once.
		_, err = impersonationOp(s, shop, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, imp.ID, now)
		})
		require.NoError(t, err)
		_, err = r.ResolveSession(context.Background(), shop, sess.ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "an ended impersonation's session does not resolve")

		// Disabling the operator does the same for every live one.
		imp2 := createImpersonation(t, s, shop, newImpersonation(op.ID, alice, now))
		in2 := newSession(alice)
		in2.Method, in2.Impersonation, in2.ExpiresAt = "impersonation", imp2.ID, imp2.ExpiresAt
		sess2 := createSession(t, s, shop, in2)
		_, err = r.ResolveSession(context.Background(), shop, sess2.ID)
		require.NoError(t, err)
		require.NoError(t, operatorOp(s, func(ctx context.Context, r ports.OperatorRepo) error {
			_, err := r.Disable(ctx, op.ID, now)
			return err
		}))
		_, err = r.ResolveSession(context.Background(), shop, sess2.ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "a disabled operator's impersonation does not resolve")
		_, err = r.ResolveSession(context.Background(), shop, own.ID)
		require.NoError(t, err, "the member's own session is untouched")
		_ = bob
	})
}

func filterImpersonated(list []ports.Session) []ports.Session {
	var out []ports.Session
	for _, s := range list {
		if !s.Impersonation.IsZero() {
			out = append(out, s)
		}
	}
	return out
}

// testImpersonationTenantBoundary attacks the impersonation repository
// from another shop's unit of work.
func testImpersonationTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 2)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	join(t, s, shopA, ports.RoleTech, alice)
	join(t, s, shopB, ports.RoleTech, alice, bob)
	op := createOperator(t, s, "boundary-ops@example.com")
	now := ports.Timestamp(time.Now())
	impA := createImpersonation(t, s, shopA, newImpersonation(op.ID, alice, now))

	t.Run("InvisibleAndUnusableFromAnotherShop", func(t *testing.T) {
		_, err := impersonationOp(s, shopB, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.Get(ctx, impA.ID)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = redeem(s, shopB, impA.CodeHash, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "A's code redeems nothing in B, where the user is a member too")
		_, err = impersonationOp(s, shopB, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.End(ctx, impA.ID, now)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
			list, err := tx.Impersonations().List(ctx, 1000)
			assert.Empty(t, list)
			return err
		}, ports.ReadOnly())
		got, err := impersonationOp(s, shopA, func(ctx context.Context, r ports.ImpersonationRepo) (ports.Impersonation, error) {
			return r.Get(ctx, impA.ID)
		})
		require.NoError(t, err)
		assert.Equal(t, impA, got, "A's impersonation is untouched")
	})

	t.Run("ASessionInBCannotNameAsImpersonation", func(t *testing.T) {
		in := newSession(alice)
		in.Impersonation = impA.ID
		err := s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Sessions().Create(ctx, in)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("KeysAreScopedToTheirShop", func(t *testing.T) {
		clash := newImpersonation(op.ID, bob, now)
		clash.ID, clash.CodeHash = impA.ID, impA.CodeHash
		inB := createImpersonation(t, s, shopB, clash)
		got, err := redeem(s, shopB, impA.CodeHash, now)
		require.NoError(t, err)
		assert.Equal(t, bob, got.UserID, "B redeems its own")
		assert.Equal(t, inB.ID, got.ID)
		got, err = redeem(s, shopA, impA.CodeHash, now)
		require.NoError(t, err, "A's code with the same hash is still good in A")
		assert.Equal(t, alice, got.UserID)
	})
}
