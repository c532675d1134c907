package capability_test

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// fakeStore is an in-memory ports.Store holding capabilities and audit
// events only (any other repository panics). A unit of work runs on a
// copy of the state under the store's lock and replaces the state only
// when fn succeeds, so a failed unit of work leaves nothing behind.
type fakeStore struct {
	mu     sync.Mutex
	state  fakeState
	units  int
	failAt string // an audit action whose append fails
}

type fakeState struct {
	caps  map[ports.ShopID]map[ports.CapabilityID]ports.Capability
	audit map[ports.ShopID][]ports.AuditEvent
}

func (st fakeState) clone() fakeState {
	out := fakeState{caps: map[ports.ShopID]map[ports.CapabilityID]ports.Capability{}, audit: map[ports.ShopID][]ports.AuditEvent{}}
	for shop, m := range st.caps {
		out.caps[shop] = maps.Clone(m)
	}
	for shop, evs := range st.audit {
		out.audit[shop] = slices.Clone(evs)
	}
	return out
}

func newFakeStore() *fakeStore {
	return &fakeStore{state: fakeState{}.clone()}
}

var _ ports.Store = (*fakeStore)(nil)

func (s *fakeStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, _ ...ports.TxOption) error {
	ctx, err := ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.units++
	work := s.state.clone()
	if err := fn(ctx, &fakeTx{s: s, st: work, shop: shop}); err != nil {
		return err
	}
	s.state = work
	return nil
}

func (s *fakeStore) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	return ports.ErrUnsupported
}
func (s *fakeStore) Ping(context.Context) error { return nil }
func (s *fakeStore) Close() error               { return nil }

// all returns every stored capability of shop.
func (s *fakeStore) all(shop ports.ShopID) []ports.Capability {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.state.caps[shop]))
}

// events returns shop's audit log.
func (s *fakeStore) events(shop ports.ShopID) []ports.AuditEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.audit[shop])
}

func (s *fakeStore) unitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.units
}

type fakeTx struct {
	ports.ShopTx // nil: any repository but these two panics
	s            *fakeStore
	st           fakeState
	shop         ports.ShopID
}

func (t *fakeTx) ShopID() ports.ShopID               { return t.shop }
func (t *fakeTx) Capabilities() ports.CapabilityRepo { return fakeCaps{t} }
func (t *fakeTx) Audit() ports.AuditRepo             { return fakeAudit{t} }

type fakeAudit struct{ t *fakeTx }

func (a fakeAudit) Append(_ context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if e.Action == a.t.s.failAt {
		return ports.AuditEvent{}, ports.ErrUnavailable
	}
	e.ShopID = a.t.shop
	a.t.st.audit[a.t.shop] = append(a.t.st.audit[a.t.shop], e)
	return e, nil
}

func (a fakeAudit) List(context.Context, ports.AuditQuery) ([]ports.AuditEvent, error) {
	return slices.Clone(a.t.st.audit[a.t.shop]), nil
}

func (a fakeAudit) Search(context.Context, ports.AuditFilter) ([]ports.AuditEvent, error) {
	return nil, ports.ErrUnsupported
}

func (a fakeAudit) Unhashed(context.Context) (int64, error) { return 0, nil }

// fakeCaps follows the ports.CapabilityRepo contract (the porttest suite
// proves the real adapters do).
type fakeCaps struct{ t *fakeTx }

func (r fakeCaps) m() map[ports.CapabilityID]ports.Capability {
	m := r.t.st.caps[r.t.shop]
	if m == nil {
		m = map[ports.CapabilityID]ports.Capability{}
		r.t.st.caps[r.t.shop] = m
	}
	return m
}

func (r fakeCaps) Create(_ context.Context, c ports.Capability) (ports.Capability, error) {
	c.Actions = ports.NormalizeActions(c.Actions)
	if err := c.Validate(); err != nil {
		return ports.Capability{}, err
	}
	for _, o := range r.m() {
		if o.ID == c.ID || bytes.Equal(o.TokenHash, c.TokenHash) {
			return ports.Capability{}, ports.ErrConflict
		}
	}
	c.CreatedAt, c.ExpiresAt, c.RevokedAt = ports.Timestamp(time.Now()), ports.Timestamp(c.ExpiresAt), time.Time{}
	c.TokenHash = bytes.Clone(c.TokenHash)
	r.m()[c.ID] = c
	return c, nil
}

func (r fakeCaps) Get(_ context.Context, id ports.CapabilityID) (ports.Capability, error) {
	c, ok := r.m()[id]
	if !ok {
		return ports.Capability{}, ports.ErrNotFound
	}
	return c, nil
}

func (r fakeCaps) Active(_ context.Context, hash []byte, now time.Time) (ports.Capability, error) {
	for _, c := range r.m() {
		if bytes.Equal(c.TokenHash, hash) && c.Active(now) {
			return c, nil
		}
	}
	return ports.Capability{}, ports.ErrNotFound
}

func (r fakeCaps) ListByRecord(_ context.Context, typ, id string, at time.Time) ([]ports.Capability, error) {
	var out []ports.Capability
	for _, c := range r.m() {
		if c.RecordType == typ && c.RecordID == id && (at.IsZero() || c.Active(at)) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b ports.Capability) int { return strings.Compare(b.ID.String(), a.ID.String()) })
	return out, nil
}

func (r fakeCaps) Revoke(_ context.Context, id ports.CapabilityID, now time.Time) (ports.Capability, error) {
	c, ok := r.m()[id]
	if !ok || !c.Active(now) {
		return ports.Capability{}, ports.ErrNotFound
	}
	c.RevokedAt = ports.Timestamp(now)
	r.m()[id] = c
	return c, nil
}

func (r fakeCaps) RevokeRecord(ctx context.Context, typ, id string, now time.Time) (int, error) {
	list, _ := r.ListByRecord(ctx, typ, id, now)
	for _, c := range list {
		if _, err := r.Revoke(ctx, c.ID, now); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

func (r fakeCaps) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	n := 0
	for id, c := range r.m() {
		if c.ExpiresAt.Before(now) {
			delete(r.m(), id)
			n++
		}
	}
	return n, nil
}
