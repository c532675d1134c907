package capability_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/ports"
)

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is one service over a fake store with two shops. Quotes Q-1 and
// Q-2 exist in shop A only; "ledger" links need audit.read.
type world struct {
	store  *fakeStore
	clock  *manualClock
	svc    *capability.Service
	shopA  ports.ShopID
	shopB  ports.ShopID
	quotes map[ports.ShopID][]string
}

func newWorld(t *testing.T, cfg capability.Config) *world {
	t.Helper()
	w := &world{
		store: newFakeStore(), clock: &manualClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)},
		shopA: ports.NewShopID(), shopB: ports.NewShopID(),
	}
	w.quotes = map[ports.ShopID][]string{w.shopA: {"Q-1", "Q-2"}}
	quote := capability.Kind{
		Type: "quote", Actions: []string{"view", "accept", "pay"},
		Exists: func(ctx context.Context, tx ports.ShopTx, id string) error {
			for _, q := range w.quotes[tx.ShopID()] {
				if q == id {
					return nil
				}
			}
			return fmt.Errorf("quote %s: %w", id, ports.ErrNotFound)
		},
	}
	ledger := capability.Kind{Type: "ledger", Actions: []string{"view"}, Permission: access.AuditRead}
	var err error
	w.svc, err = capability.New(capability.Deps{Store: w.store, Kinds: []capability.Kind{quote, ledger}, Clock: w.clock}, cfg)
	require.NoError(t, err)
	return w
}

func (w *world) as(shop ports.ShopID, role ports.Role) context.Context {
	return access.With(context.Background(), access.Scope{Shop: shop, User: ports.NewUserID(), Role: role, RequestID: "req-1", IP: "192.0.2.1"})
}

func (w *world) mint(t *testing.T, in capability.MintInput) capability.Minted {
	t.Helper()
	m, err := w.svc.Mint(w.as(w.shopA, ports.RoleSales), in)
	require.NoError(t, err)
	return m
}

func TestNewRefusesBadDeps(t *testing.T) {
	st := newFakeStore()
	ok := capability.Kind{Type: "quote", Actions: []string{"view"}}
	tests := []struct {
		name string
		deps capability.Deps
		cfg  capability.Config
	}{
		{"no store", capability.Deps{Kinds: []capability.Kind{ok}}, capability.Config{}},
		{"no kinds", capability.Deps{Store: st}, capability.Config{}},
		{"bad type", capability.Deps{Store: st, Kinds: []capability.Kind{{Type: "Quote", Actions: []string{"view"}}}}, capability.Config{}},
		{"no actions", capability.Deps{Store: st, Kinds: []capability.Kind{{Type: "quote"}}}, capability.Config{}},
		{"bad action", capability.Deps{Store: st, Kinds: []capability.Kind{{Type: "quote", Actions: []string{"view it"}}}}, capability.Config{}},
		{"kind twice", capability.Deps{Store: st, Kinds: []capability.Kind{ok, ok}}, capability.Config{}},
		{"default above max", capability.Deps{Store: st, Kinds: []capability.Kind{ok}}, capability.Config{DefaultTTL: 2 * time.Hour, MaxTTL: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := capability.New(tt.deps, tt.cfg)
			require.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
	svc, err := capability.New(capability.Deps{Store: st, Kinds: []capability.Kind{ok}}, capability.Config{MaxTTL: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, capability.Config{DefaultTTL: time.Hour, MaxTTL: time.Hour}, svc.Config(), "the default lifetime never exceeds the maximum")
	svc, err = capability.New(capability.Deps{Store: st, Kinds: []capability.Kind{ok}}, capability.Config{})
	require.NoError(t, err)
	assert.Equal(t, capability.Config{DefaultTTL: 7 * 24 * time.Hour, MaxTTL: 90 * 24 * time.Hour}, svc.Config())
}

func TestMintStoresOnlyTheHashAndAudits(t *testing.T) {
	w := newWorld(t, capability.Config{})
	m := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view", "accept", "view"}})

	require.Len(t, m.Token, capability.TokenLen)
	raw, err := base64.RawURLEncoding.Strict().DecodeString(m.Token)
	require.NoError(t, err)
	require.Len(t, raw, 32, "256 random bits")
	sum := sha256.Sum256(raw)
	stored := w.store.all(w.shopA)
	require.Len(t, stored, 1)
	assert.Equal(t, sum[:], stored[0].TokenHash, "the store holds the token's SHA-256")
	assert.Equal(t, []string{"accept", "view"}, stored[0].Actions)
	assert.Equal(t, w.clock.Now().Add(capability.DefaultTTL), stored[0].ExpiresAt, "default lifetime from the service's clock")
	assert.Equal(t, m.Capability, stored[0])

	evs := w.store.events(w.shopA)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, "capability.created", ev.Action)
	assert.Equal(t, "capability:"+m.Capability.ID.String(), ev.Target)
	assert.Equal(t, "req-1", ev.RequestID)
	assert.True(t, strings.HasPrefix(ev.Actor, "user:"))
	var after map[string]any
	require.NoError(t, json.Unmarshal(ev.After, &after))
	assert.Equal(t, "quote", after["record_type"])
	assert.Equal(t, "Q-1", after["record_id"])
	all, _ := json.Marshal(ev)
	assert.NotContains(t, string(all), m.Token, "the token is never audited")
	assert.NotContains(t, string(all), base64.StdEncoding.EncodeToString(sum[:]), "nor its hash")

	other := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}})
	assert.NotEqual(t, m.Token, other.Token, "every mint draws a fresh token")
}

func TestMintGuardsAndValidates(t *testing.T) {
	w := newWorld(t, capability.Config{MaxTTL: 30 * 24 * time.Hour})
	good := capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}}
	with := func(edit func(*capability.MintInput)) capability.MintInput {
		in := good
		edit(&in)
		return in
	}
	link := w.mint(t, good)
	linkCtx := w.svc
	scope, err := linkCtx.Resolve(context.Background(), w.shopA, link.Token)
	require.NoError(t, err)
	units := w.store.unitCount()
	tests := []struct {
		name string
		ctx  context.Context
		in   capability.MintInput
		want error
	}{
		{"no scope", context.Background(), good, ports.ErrUnauthenticated},
		{"a viewer", w.as(w.shopA, ports.RoleViewer), good, ports.ErrForbidden},
		{"a link's holder mints another", access.With(context.Background(), scope), good, ports.ErrUnauthenticated},
		{"a sales member without the kind's permission", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.RecordType = "ledger" }), ports.ErrForbidden},
		{"an unregistered type", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.RecordType = "invoice" }), ports.ErrInvalid},
		{"an unregistered type, asked by a viewer", w.as(w.shopA, ports.RoleViewer), with(func(in *capability.MintInput) { in.RecordType = "invoice" }), ports.ErrForbidden},
		{"a malformed record ID", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.RecordID = "Q/1" }), ports.ErrInvalid},
		{"no actions", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.Actions = nil }), ports.ErrInvalid},
		{"an action the kind does not offer", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.Actions = []string{"view", "delete"} }), ports.ErrInvalid},
		{"a negative TTL", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.TTL = -time.Second }), ports.ErrInvalid},
		{"a TTL above the maximum", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.TTL = 30*24*time.Hour + time.Second }), ports.ErrInvalid},
		{"a record that does not exist", w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.RecordID = "Q-3" }), ports.ErrNotFound},
		{"a record of another shop", w.as(w.shopB, ports.RoleOwner), good, ports.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.Mint(tt.ctx, tt.in)
			require.ErrorIs(t, err, tt.want)
		})
	}
	assert.Len(t, w.store.all(w.shopA), 1, "nothing more was stored in A")
	assert.Empty(t, w.store.all(w.shopB), "nor in B")
	assert.Len(t, w.store.events(w.shopA), 1)
	assert.Equal(t, units+2, w.store.unitCount(), "only the two existence checks reached the store")

	m, err := w.svc.Mint(w.as(w.shopA, ports.RoleSales), with(func(in *capability.MintInput) { in.TTL = 30 * 24 * time.Hour }))
	require.NoError(t, err, "the maximum itself is allowed")
	assert.Equal(t, w.clock.Now().Add(30*24*time.Hour), m.Capability.ExpiresAt)
	_, err = w.svc.Mint(w.as(w.shopA, ports.RoleAdmin), with(func(in *capability.MintInput) { in.RecordType, in.RecordID = "ledger", "2026" }))
	require.NoError(t, err, "an admin holds audit.read")
}

func TestMintWritesNothingWhenTheAuditFails(t *testing.T) {
	w := newWorld(t, capability.Config{})
	w.store.failAt = "capability.created"
	_, err := w.svc.Mint(w.as(w.shopA, ports.RoleOwner), capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}})
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Empty(t, w.store.all(w.shopA), "the link did not outlive its audit event (AUD-2)")
}

func TestResolve(t *testing.T) {
	w := newWorld(t, capability.Config{})
	m := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view", "accept"}, TTL: time.Hour})

	sc, err := w.svc.Resolve(context.Background(), w.shopA, m.Token)
	require.NoError(t, err)
	require.NotNil(t, sc.Capability)
	assert.Equal(t, access.Capability{
		ID: m.Capability.ID, Shop: w.shopA, RecordType: "quote", RecordID: "Q-1",
		Actions: []string{"accept", "view"}, ExpiresAt: m.Capability.ExpiresAt,
	}, *sc.Capability)
	assert.Equal(t, w.shopA, sc.Shop)
	assert.True(t, sc.User.IsZero())
	ctx := access.With(context.Background(), sc)
	_, err = access.RequireRecord(ctx, "quote", "Q-1", "accept")
	require.NoError(t, err)
	_, err = access.RequireRecord(ctx, "quote", "Q-2", "view")
	require.ErrorIs(t, err, access.ErrNoCapability, "another record of the same type")
	_, err = access.RequireRecord(ctx, "quote", "Q-1", "pay")
	require.ErrorIs(t, err, access.ErrNoCapability, "another action")
	_, err = access.DefaultPolicy().Require(ctx, access.ShopRead)
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a link's holder is not a member")

	flip := []byte(m.Token)
	flip[10] = map[bool]byte{true: 'B', false: 'A'}[flip[10] == 'A']
	last := []byte(m.Token)
	last[len(last)-1] = map[bool]byte{true: 'B', false: 'A'}[last[len(last)-1] == 'A']
	tests := []struct {
		name  string
		shop  ports.ShopID
		token string
	}{
		{"another shop", w.shopB, m.Token},
		{"a character flipped", w.shopA, string(flip)},
		{"the last character flipped", w.shopA, string(last)},
		{"truncated", w.shopA, m.Token[:len(m.Token)-1]},
		{"extended", w.shopA, m.Token + "A"},
		{"padded", w.shopA, m.Token + "="},
		{"standard base64", w.shopA, strings.NewReplacer("-", "+", "_", "/").Replace(m.Token) + "+"},
		{"empty", w.shopA, ""},
		{"the hash instead of the token", w.shopA, base64.RawURLEncoding.EncodeToString(m.Capability.TokenHash)},
		{"the link's ID", w.shopA, m.Capability.ID.String()},
		{"no shop", ports.ShopID{}, m.Token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := w.svc.Resolve(context.Background(), tt.shop, tt.token)
			require.Equal(t, access.ErrNoCapability, err, "one answer for every refusal")
			require.Equal(t, access.Scope{}, sc)
		})
	}

	t.Run("after expiry", func(t *testing.T) {
		w.clock.Advance(time.Hour - time.Microsecond)
		_, err := w.svc.Resolve(context.Background(), w.shopA, m.Token)
		require.NoError(t, err, "a microsecond before expiry")
		w.clock.Advance(time.Microsecond)
		_, err = w.svc.Resolve(context.Background(), w.shopA, m.Token)
		require.Equal(t, access.ErrNoCapability, err)
	})

	t.Run("after revocation", func(t *testing.T) {
		m := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}})
		_, err := w.svc.Resolve(context.Background(), w.shopA, m.Token)
		require.NoError(t, err)
		_, err = w.svc.Revoke(w.as(w.shopA, ports.RoleTech), m.Capability.ID)
		require.NoError(t, err)
		_, err = w.svc.Resolve(context.Background(), w.shopA, m.Token)
		require.Equal(t, access.ErrNoCapability, err)
	})
}

func TestListRevokeAndSweep(t *testing.T) {
	w := newWorld(t, capability.Config{})
	a := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"view"}, TTL: time.Hour})
	b := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-1", Actions: []string{"pay"}, TTL: 2 * time.Hour})
	q2 := w.mint(t, capability.MintInput{RecordType: "quote", RecordID: "Q-2", Actions: []string{"view"}})
	sales := w.as(w.shopA, ports.RoleSales)

	list, err := w.svc.List(sales, "quote", "Q-1", false)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, c := range list {
		assert.Nil(t, c.TokenHash, "a listing carries no token hash")
		assert.Equal(t, "Q-1", c.RecordID)
	}
	_, err = w.svc.List(w.as(w.shopA, ports.RoleViewer), "quote", "Q-1", false)
	require.ErrorIs(t, err, ports.ErrForbidden)
	_, err = w.svc.List(sales, "ledger", "2026", false)
	require.ErrorIs(t, err, ports.ErrForbidden, "the kind's permission is needed to list too")
	list, err = w.svc.List(w.as(w.shopB, ports.RoleOwner), "quote", "Q-1", false)
	require.NoError(t, err)
	assert.Empty(t, list, "B sees none of A's links")

	_, err = w.svc.Revoke(w.as(w.shopB, ports.RoleOwner), a.Capability.ID)
	require.ErrorIs(t, err, ports.ErrNotFound, "B cannot revoke A's link")
	_, err = w.svc.Revoke(w.as(w.shopA, ports.RoleViewer), a.Capability.ID)
	require.ErrorIs(t, err, ports.ErrForbidden)
	revoked, err := w.svc.Revoke(sales, a.Capability.ID)
	require.NoError(t, err)
	assert.Equal(t, w.clock.Now(), revoked.RevokedAt)
	assert.Nil(t, revoked.TokenHash)
	_, err = w.svc.Revoke(sales, a.Capability.ID)
	require.ErrorIs(t, err, ports.ErrNotFound, "a link is revoked once")
	evs := w.store.events(w.shopA)
	last := evs[len(evs)-1]
	assert.Equal(t, "capability.revoked", last.Action)
	assert.Equal(t, "capability:"+a.Capability.ID.String(), last.Target)
	assert.NotEmpty(t, last.Before)

	active, err := w.svc.List(sales, "quote", "Q-1", true)
	require.NoError(t, err)
	require.Len(t, active, 1)
	assert.Equal(t, b.Capability.ID, active[0].ID)

	n, err := w.svc.RevokeRecord(sales, "quote", "Q-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = w.svc.Resolve(context.Background(), w.shopA, b.Token)
	require.Equal(t, access.ErrNoCapability, err)
	_, err = w.svc.Resolve(context.Background(), w.shopA, q2.Token)
	require.NoError(t, err, "another record's links stay")

	w.clock.Advance(2*time.Hour + time.Second)
	_, err = w.svc.Sweep(sales)
	require.NoError(t, err)
	n, err = w.svc.Sweep(access.System(context.Background(), w.shopA, ports.OrgID{}, "job:links.sweep"))
	require.NoError(t, err)
	assert.Zero(t, n, "the sales member's sweep already removed both expired links")
	assert.Len(t, w.store.all(w.shopA), 1, "Q-2's link lives on")
	evs = w.store.events(w.shopA)
	assert.Equal(t, "capability.swept", evs[len(evs)-1].Action)
	_, err = w.svc.Sweep(context.Background())
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
}
