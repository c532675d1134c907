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

// newCapability returns a valid capability for quote recordID that
// expires at expires.
func newCapability(recordID string, expires time.Time) ports.Capability {
	return ports.Capability{
		ID: ports.NewCapabilityID(), TokenHash: tokenHash(), RecordType: "quote", RecordID: recordID,
		Actions: []string{"accept", "view"}, ExpiresAt: expires,
	}
}

// capabilityOp runs do on shop's capability repository in its own unit
// of work and returns what it returned.
func capabilityOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.CapabilityRepo) (ports.Capability, error)) (ports.Capability, error) {
	var out ports.Capability
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Capabilities())
		return err
	})
	return out, err
}

// createCapability stores c through shop's unit of work and requires
// success.
func createCapability(t *testing.T, s ports.Store, shop ports.ShopID, c ports.Capability) ports.Capability {
	t.Helper()
	out, err := capabilityOp(s, shop, func(ctx context.Context, r ports.CapabilityRepo) (ports.Capability, error) {
		return r.Create(ctx, c)
	})
	require.NoError(t, err)
	return out
}

func getCapability(s ports.Store, shop ports.ShopID, id ports.CapabilityID) (ports.Capability, error) {
	return capabilityOp(s, shop, func(ctx context.Context, r ports.CapabilityRepo) (ports.Capability, error) { return r.Get(ctx, id) })
}

func activeCapability(s ports.Store, shop ports.ShopID, hash []byte, now time.Time) (ports.Capability, error) {
	var out ports.Capability
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Capabilities().Active(ctx, hash, now)
		return err
	}, ports.ReadOnly())
	return out, err
}

func revokeCapability(s ports.Store, shop ports.ShopID, id ports.CapabilityID, now time.Time) (ports.Capability, error) {
	return capabilityOp(s, shop, func(ctx context.Context, r ports.CapabilityRepo) (ports.Capability, error) {
		return r.Revoke(ctx, id, now)
	})
}

// capabilityCount runs a counting operation (RevokeRecord, DeleteExpired)
// in shop's unit of work and requires success.
func capabilityCount(t *testing.T, s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.CapabilityRepo) (int, error)) int {
	t.Helper()
	var n int
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		n, err = do(ctx, tx.Capabilities())
		return err
	})
	return n
}

// listCapabilities lists one quote's capabilities (active at activeAt
// unless it is zero) and requires success.
func listCapabilities(t *testing.T, s ports.Store, shop ports.ShopID, recordType, recordID string, activeAt time.Time) []ports.Capability {
	t.Helper()
	var out []ports.Capability
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Capabilities().ListByRecord(ctx, recordType, recordID, activeAt)
		return err
	}, ports.ReadOnly())
	return out
}

func capabilityIDs(list []ports.Capability) []ports.CapabilityID {
	out := make([]ports.CapabilityID, len(list))
	for i, c := range list {
		out[i] = c.ID
	}
	return out
}

func testCapabilities(t *testing.T, newStore StoreHarness) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, minter := f.shops[0].ID, f.users[0].ID
		before := time.Now().Add(-time.Minute)
		in := newCapability("Q-2026:001", time.Now().Add(72*time.Hour+999*time.Nanosecond).In(time.FixedZone("z", 5*3600)))
		in.Actions = []string{"view", "pay", "accept", "view"} // normalised by Create
		in.CreatedBy = minter
		in.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // ignored: the store stamps it
		in.RevokedAt = time.Now()                                  // ignored: a new capability is active

		created := createCapability(t, s, shop, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		want := ports.Capability{
			ID: in.ID, TokenHash: in.TokenHash, RecordType: "quote", RecordID: "Q-2026:001",
			Actions: []string{"accept", "pay", "view"}, CreatedBy: minter,
			CreatedAt: created.CreatedAt, ExpiresAt: ports.Timestamp(in.ExpiresAt),
		}
		assert.Equal(t, want, created, "Create returns the capability as stored: actions sorted and unique, active")
		assert.Equal(t, []string{"view", "pay", "accept", "view"}, in.Actions, "the caller's slice is not reordered")
		got, err := getCapability(s, shop, in.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "every field round-trips")
		assert.True(t, got.Active(time.Now()))

		bySystem := createCapability(t, s, shop, newCapability("7", time.Now().Add(time.Hour)))
		got, err = getCapability(s, shop, bySystem.ID)
		require.NoError(t, err)
		assert.True(t, got.CreatedBy.IsZero(), "a system actor's capability has no creator")
		assert.Equal(t, bySystem, got)

		_, err = getCapability(s, shop, ports.NewCapabilityID())
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		tests := []struct {
			name string
			give func(*ports.Capability)
		}{
			{"zero id", func(c *ports.Capability) { c.ID = ports.CapabilityID{} }},
			{"no token hash", func(c *ports.Capability) { c.TokenHash = nil }},
			{"short token hash", func(c *ports.Capability) { c.TokenHash = c.TokenHash[:ports.TokenHashSize-1] }},
			{"long token hash", func(c *ports.Capability) { c.TokenHash = append(c.TokenHash, 0) }},
			{"no record type", func(c *ports.Capability) { c.RecordType = "" }},
			{"upper-case record type", func(c *ports.Capability) { c.RecordType = "Quote" }},
			{"record type with a slash", func(c *ports.Capability) { c.RecordType = "quote/x" }},
			{"record type starting with a digit", func(c *ports.Capability) { c.RecordType = "1quote" }},
			{"long record type", func(c *ports.Capability) { c.RecordType = strings.Repeat("q", ports.MaxRecordTypeLen+1) }},
			{"no record id", func(c *ports.Capability) { c.RecordID = "" }},
			{"record id with a slash", func(c *ports.Capability) { c.RecordID = "a/b" }},
			{"record id with a space", func(c *ports.Capability) { c.RecordID = "a b" }},
			{"record id with a percent", func(c *ports.Capability) { c.RecordID = "a%2Fb" }},
			{"record id with a NUL", func(c *ports.Capability) { c.RecordID = "a\x00" }},
			{"non-ASCII record id", func(c *ports.Capability) { c.RecordID = "é" }},
			{"long record id", func(c *ports.Capability) { c.RecordID = strings.Repeat("1", ports.MaxRecordIDLen+1) }},
			{"no actions", func(c *ports.Capability) { c.Actions = nil }},
			{"empty action", func(c *ports.Capability) { c.Actions = []string{""} }},
			{"action with a space", func(c *ports.Capability) { c.Actions = []string{"view all"} }},
			{"action with a dot", func(c *ports.Capability) { c.Actions = []string{"quote.view"} }},
			{"upper-case action", func(c *ports.Capability) { c.Actions = []string{"View"} }},
			{"long action", func(c *ports.Capability) { c.Actions = []string{strings.Repeat("v", ports.MaxActionLen+1)} }},
			{"too many actions", func(c *ports.Capability) {
				c.Actions = nil
				for i := range ports.MaxCapabilityActions + 1 {
					c.Actions = append(c.Actions, "a"+strings.Repeat("x", i))
				}
			}},
			{"no expiry", func(c *ports.Capability) { c.ExpiresAt = time.Time{} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newCapability("1", time.Now().Add(time.Hour))
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Capabilities().Create(ctx, give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "1", time.Time{}), "nothing was written")

		max := newCapability(strings.Repeat("Z", ports.MaxRecordIDLen), time.Now().Add(time.Hour))
		max.RecordType = "a" + strings.Repeat("b.", (ports.MaxRecordTypeLen-1)/2)
		max.Actions = nil
		for i := range ports.MaxCapabilityActions {
			max.Actions = append(max.Actions, "a"+strings.Repeat("x", ports.MaxActionLen-1-i))
		}
		got := createCapability(t, s, shop, max)
		assert.Len(t, got.Actions, ports.MaxCapabilityActions, "the largest valid capability is stored whole")
		got, err := getCapability(s, shop, max.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.NormalizeActions(max.Actions), got.Actions)
		assert.Equal(t, max.RecordID, got.RecordID)
	})

	t.Run("CreateRefusesTakenKeysAndUnknownReferences", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop := f.shops[0].ID
		orig := createCapability(t, s, shop, newCapability("1", time.Now().Add(time.Hour)))
		takenID := newCapability("2", time.Now().Add(2*time.Hour))
		takenID.ID = orig.ID
		takenHash := newCapability("2", time.Now().Add(2*time.Hour))
		takenHash.TokenHash = orig.TokenHash
		unknownCreator := newCapability("2", time.Now().Add(time.Hour))
		unknownCreator.CreatedBy = ports.NewUserID()
		tests := []struct {
			name string
			shop ports.ShopID
			give ports.Capability
			want error
		}{
			{"taken id", shop, takenID, ports.ErrConflict},
			{"taken token hash", shop, takenHash, ports.ErrConflict},
			{"unknown creator", shop, unknownCreator, ports.ErrNotFound},
			{"missing shop", ports.NewShopID(), newCapability("2", time.Now().Add(time.Hour)), ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := capabilityOp(s, tt.shop, func(ctx context.Context, r ports.CapabilityRepo) (ports.Capability, error) {
					return r.Create(ctx, tt.give)
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Equal(t, []ports.Capability{orig}, listCapabilities(t, s, shop, "quote", "1", time.Time{}), "the taken capability is unchanged")
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "2", time.Time{}), "nothing was written for the refused ones")
	})

	t.Run("ActiveOnlyWhileActive", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		now := ports.Timestamp(time.Now())
		tests := []struct {
			name    string
			expires time.Time
			revoke  bool
			give    func(stored []byte) []byte
			want    error
		}{
			{"active", now.Add(time.Hour), false, func(h []byte) []byte { return h }, nil},
			{"valid a microsecond more", now.Add(time.Microsecond), false, func(h []byte) []byte { return h }, nil},
			{"expired at now", now, false, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"expired before now", now.Add(-time.Second), false, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"revoked", now.Add(time.Hour), true, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"unknown hash", now.Add(time.Hour), false, func([]byte) []byte { return tokenHash() }, ports.ErrNotFound},
			{"one bit flipped", now.Add(time.Hour), false, func(h []byte) []byte {
				c := append([]byte(nil), h...)
				c[31] ^= 1
				return c
			}, ports.ErrNotFound},
			{"truncated hash", now.Add(time.Hour), false, func(h []byte) []byte { return h[:16] }, ports.ErrNotFound},
			{"extended hash", now.Add(time.Hour), false, func(h []byte) []byte { return append(append([]byte(nil), h...), 0) }, ports.ErrNotFound},
			{"no hash", now.Add(time.Hour), false, func([]byte) []byte { return nil }, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := createCapability(t, s, shop, newCapability("1", tt.expires))
				if tt.revoke {
					_, err := revokeCapability(s, shop, c.ID, now.Add(-time.Second))
					require.NoError(t, err)
				}
				got, err := activeCapability(s, shop, tt.give(c.TokenHash), now)
				if tt.want != nil {
					require.ErrorIs(t, err, tt.want)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, c, got, "Active returns the stored capability")
			})
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		now := ports.Timestamp(time.Now())
		c := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		revoked, err := revokeCapability(s, shop, c.ID, now)
		require.NoError(t, err)
		want := c
		want.RevokedAt = now
		assert.Equal(t, want, revoked, "Revoke returns the capability with RevokedAt set")
		got, err := getCapability(s, shop, c.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.False(t, got.Active(now))
		_, err = activeCapability(s, shop, c.TokenHash, now.Add(-time.Hour))
		require.ErrorIs(t, err, ports.ErrNotFound, "a revoked capability is never active again, whatever time is asked about")

		expiring := createCapability(t, s, shop, newCapability("1", now))
		tests := []struct {
			name string
			give ports.CapabilityID
		}{
			{"revoked already", c.ID},
			{"expired at now", expiring.ID},
			{"unknown", ports.NewCapabilityID()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := revokeCapability(s, shop, tt.give, now.Add(time.Second))
				require.ErrorIs(t, err, ports.ErrNotFound)
			})
		}
		got, err = getCapability(s, shop, c.ID)
		require.NoError(t, err)
		assert.Equal(t, now, got.RevokedAt, "a second revoke does not move RevokedAt")
	})

	t.Run("RevokeRecord", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		now := ports.Timestamp(time.Now())
		a := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		b := createCapability(t, s, shop, newCapability("1", now.Add(2*time.Hour)))
		expired := createCapability(t, s, shop, newCapability("1", now.Add(-time.Second)))
		other := createCapability(t, s, shop, newCapability("10", now.Add(time.Hour)))
		invoice := newCapability("1", now.Add(time.Hour))
		invoice.RecordType = "invoice"
		invoice = createCapability(t, s, shop, invoice)

		n := capabilityCount(t, s, shop, func(ctx context.Context, r ports.CapabilityRepo) (int, error) {
			return r.RevokeRecord(ctx, "quote", "1", now)
		})
		assert.Equal(t, 2, n, "the two active capabilities of quote 1")
		for _, c := range []ports.Capability{a, b} {
			got, err := getCapability(s, shop, c.ID)
			require.NoError(t, err)
			assert.Equal(t, now, got.RevokedAt)
		}
		for _, c := range []ports.Capability{expired, other, invoice} {
			got, err := getCapability(s, shop, c.ID)
			require.NoError(t, err)
			assert.True(t, got.RevokedAt.IsZero(), "%s %s is untouched: expired, another ID, or another type with the same ID", c.RecordType, c.RecordID)
		}
		n = capabilityCount(t, s, shop, func(ctx context.Context, r ports.CapabilityRepo) (int, error) {
			return r.RevokeRecord(ctx, "quote", "1", now)
		})
		assert.Zero(t, n, "nothing left to revoke")
	})

	t.Run("ListByRecordNewestFirstAndActive", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		now := ports.Timestamp(time.Now())
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "1", time.Time{}))
		live := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		revoked := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		expired := createCapability(t, s, shop, newCapability("1", now))
		later := createCapability(t, s, shop, newCapability("1", now.Add(time.Minute)))
		createCapability(t, s, shop, newCapability("1x", now.Add(time.Hour)))
		createCapability(t, s, shop, newCapability("Q1", now.Add(time.Hour)))
		file := newCapability("1", now.Add(time.Hour))
		file.RecordType = "file"
		file = createCapability(t, s, shop, file)
		_, err := revokeCapability(s, shop, revoked.ID, now.Add(-time.Second))
		require.NoError(t, err)

		all := listCapabilities(t, s, shop, "quote", "1", time.Time{})
		assert.Equal(t, []ports.CapabilityID{later.ID, expired.ID, revoked.ID, live.ID}, capabilityIDs(all),
			"a zero activeAt lists every capability of the record, newest first, and no other record's")
		assert.False(t, all[2].RevokedAt.IsZero(), "listed rows carry their state")
		assert.Equal(t, []ports.CapabilityID{later.ID, live.ID}, capabilityIDs(listCapabilities(t, s, shop, "quote", "1", now)),
			"active at now: not revoked, not expired at or before now")
		assert.Equal(t, []ports.CapabilityID{live.ID}, capabilityIDs(listCapabilities(t, s, shop, "quote", "1", now.Add(time.Minute))),
			"a capability expiring at activeAt is no longer active")
		assert.Equal(t, []ports.CapabilityID{file.ID}, capabilityIDs(listCapabilities(t, s, shop, "file", "1", time.Time{})),
			"the record type is part of the record's name")
		assert.Empty(t, listCapabilities(t, s, shop, "QUOTE", "1", time.Time{}), "record types match exactly")
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "q1", time.Time{}), "record IDs match exactly (case too)")
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "%", time.Time{}), "no pattern matching")
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "", time.Time{}), "an invalid record ID matches nothing")
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		now := ports.Timestamp(time.Now())
		createCapability(t, s, shop, newCapability("1", now.Add(-time.Second)))
		revokedExpired := createCapability(t, s, shop, newCapability("1", now.Add(-time.Second)))
		_, err := revokeCapability(s, shop, revokedExpired.ID, now.Add(-time.Hour))
		require.NoError(t, err)
		atNow := createCapability(t, s, shop, newCapability("1", now))
		live := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		revokedLive := createCapability(t, s, shop, newCapability("1", now.Add(time.Hour)))
		_, err = revokeCapability(s, shop, revokedLive.ID, now.Add(-time.Hour))
		require.NoError(t, err)

		sweep := func(at time.Time) int {
			return capabilityCount(t, s, shop, func(ctx context.Context, r ports.CapabilityRepo) (int, error) { return r.DeleteExpired(ctx, at) })
		}
		assert.Equal(t, []int{2, 0}, []int{sweep(now), sweep(now)}, "the two that expired before now (one revoked); a second sweep finds nothing")
		assert.Equal(t, []ports.CapabilityID{revokedLive.ID, live.ID, atNow.ID}, capabilityIDs(listCapabilities(t, s, shop, "quote", "1", time.Time{})),
			"a revoked capability stays listed until it would have expired")
		assert.Equal(t, 1, sweep(now.Add(time.Microsecond)), "the capability expiring at now goes next")
		assert.Equal(t, 2, sweep(now.Add(24*time.Hour)))
		assert.Empty(t, listCapabilities(t, s, shop, "quote", "1", time.Time{}))
	})

	t.Run("ReadOnlyUnitOfWorkResolves", func(t *testing.T) {
		// Resolving a link is a read: it must work on a reader connection
		// and must not be able to write there.
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		c := createCapability(t, s, shop, newCapability("1", time.Now().Add(time.Hour)))
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			got, err := tx.Capabilities().Active(ctx, c.TokenHash, time.Now())
			require.NoError(t, err)
			assert.Equal(t, c.ID, got.ID)
			_, err = tx.Capabilities().Revoke(ctx, c.ID, time.Now())
			return err
		}, ports.ReadOnly())
		require.ErrorIs(t, err, ports.ErrForbidden, "a revoke inside a read-only unit of work fails")
		got, err := getCapability(s, shop, c.ID)
		require.NoError(t, err)
		assert.True(t, got.RevokedAt.IsZero(), "and changed nothing")
	})
}

// testCapabilityTenantBoundary attacks the boundary of the capability
// repository: from shop B's unit of work, present A's token hash, reach
// for A's capabilities by ID and by record, revoke and sweep them.
func testCapabilityTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	now := ports.Timestamp(time.Now())
	capA := createCapability(t, s, shopA, newCapability("Q-1", now.Add(time.Hour)))
	expiredA := createCapability(t, s, shopA, newCapability("Q-1", now.Add(-time.Hour)))

	t.Run("CapabilitiesOfAnotherShopAreInvisible", func(t *testing.T) {
		_, err := getCapability(s, shopB, capA.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Empty(t, listCapabilities(t, s, shopB, "quote", "Q-1", time.Time{}), "B lists none of A's capabilities for the same record name")
		_, err = activeCapability(s, shopB, capA.TokenHash, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "A's token is unknown in B")
	})

	t.Run("CapabilitiesOfAnotherShopCannotBeChanged", func(t *testing.T) {
		_, err := revokeCapability(s, shopB, capA.ID, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "B cannot revoke A's capability")
		n := capabilityCount(t, s, shopB, func(ctx context.Context, r ports.CapabilityRepo) (int, error) {
			return r.RevokeRecord(ctx, "quote", "Q-1", now)
		})
		assert.Zero(t, n, "B's revoke of the record name reaches none of A's")
		n = capabilityCount(t, s, shopB, func(ctx context.Context, r ports.CapabilityRepo) (int, error) {
			return r.DeleteExpired(ctx, now.Add(1000*time.Hour))
		})
		assert.Zero(t, n, "B's sweep does not reach A")
		assert.Equal(t, []ports.Capability{expiredA, capA}, listCapabilities(t, s, shopA, "quote", "Q-1", time.Time{}), "A's capabilities are untouched")
		got, err := activeCapability(s, shopA, capA.TokenHash, now)
		require.NoError(t, err)
		assert.Equal(t, capA, got, "and A's token still works in A")
	})

	t.Run("CapabilityKeysAreScopedToTheirShop", func(t *testing.T) {
		// A capability "does not exist in another shop", so neither its ID
		// nor its token hash is taken there: a conflict would tell B what
		// A holds.
		clash := newCapability("Q-1", now.Add(time.Hour))
		clash.ID, clash.TokenHash = capA.ID, capA.TokenHash
		clash.Actions = []string{"pay"}
		inB := createCapability(t, s, shopB, clash)
		got, err := activeCapability(s, shopB, capA.TokenHash, now)
		require.NoError(t, err)
		assert.Equal(t, inB, got, "B finds its own capability")
		got, err = activeCapability(s, shopA, capA.TokenHash, now)
		require.NoError(t, err)
		assert.Equal(t, capA, got, "A still finds its own, with its own actions")
	})
}
