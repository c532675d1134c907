package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// logStore is a fake store for unit tests of Before: every unit of work
// shares one in-memory log per shop, committed only when fn returns nil;
// failAppend makes appends fail, and trail records what happened in order.
type logStore struct {
	mu         sync.Mutex
	log        map[ports.ShopID][]ports.AuditEvent
	failAppend func(e ports.AuditEvent) error
	trail      []string
}

type logTx struct {
	ports.ShopTx // nil: only Audit and ShopID are used
	s            *logStore
	shop         ports.ShopID
	pending      []ports.AuditEvent
}

type logRepo struct {
	ports.AuditRepo
	tx *logTx
}

func newLogStore() *logStore { return &logStore{log: map[ports.ShopID][]ports.AuditEvent{}} }

func (s *logStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, _ ...ports.TxOption) error {
	ctx, err := ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	tx := &logTx{s: s, shop: shop}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range tx.pending {
		e.Seq = int64(len(s.log[shop]) + 1)
		s.log[shop] = append(s.log[shop], e)
		s.trail = append(s.trail, "audit "+e.Action+" "+string(e.Outcome))
	}
	return nil
}

func (s *logStore) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	return ports.ErrUnsupported
}
func (s *logStore) Ping(context.Context) error { return nil }
func (s *logStore) Close() error               { return nil }

func (s *logStore) note(what string) {
	s.mu.Lock()
	s.trail = append(s.trail, what)
	s.mu.Unlock()
}

func (t *logTx) ShopID() ports.ShopID   { return t.shop }
func (t *logTx) Audit() ports.AuditRepo { return logRepo{tx: t} }

func (r logRepo) Append(_ context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	if err := e.Validate(); err != nil {
		return ports.AuditEvent{}, err
	}
	if f := r.tx.s.failAppend; f != nil {
		if err := f(e); err != nil {
			return ports.AuditEvent{}, err
		}
	}
	e.ShopID = r.tx.shop
	r.tx.pending = append(r.tx.pending, e)
	return e, nil
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func attempt() ports.AuditEvent {
	return ports.AuditEvent{Actor: "operator:7", Action: "impersonation.start", Target: "user:9",
		After: json.RawMessage(`{"reason":"ticket 42"}`), IP: "192.0.2.1", RequestID: "r1"}
}

func TestBeforeAppendsTheAttemptFirstAndTheOutcomeAfter(t *testing.T) {
	st := newLogStore()
	shop := ports.NewShopID()
	clock := &fixedClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	err := audit.Before(context.Background(), st, clock, shop, attempt(), func(ctx context.Context) error {
		require.False(t, ports.InUnitOfWork(ctx), "the action runs outside the attempt's unit of work")
		st.note("action")
		return st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: clock.Now(), Actor: "operator:7", Action: "impersonation.created", Outcome: ports.OutcomeSuccess})
			return err
		})
	})
	require.NoError(t, err)
	require.Equal(t, []string{"audit impersonation.start attempted", "action", "audit impersonation.created success", "audit impersonation.start success"}, st.trail)
	log := st.log[shop]
	require.Len(t, log, 3)
	first, last := log[0], log[2]
	require.Equal(t, ports.OutcomeAttempted, first.Outcome)
	require.JSONEq(t, `{"reason":"ticket 42"}`, string(first.After))
	require.True(t, first.Time.Before(last.Time))
	require.NotEqual(t, first.ID, last.ID)
	require.Equal(t, []string{first.Actor, first.Action, first.Target, first.IP, first.RequestID}, []string{last.Actor, last.Action, last.Target, last.IP, last.RequestID})
	require.JSONEq(t, fmt.Sprintf(`{"attempt":%q}`, first.ID.String()), string(last.After))
}

func TestBeforeDoesNotRunTheActionWhenTheAttemptCannotBeWritten(t *testing.T) {
	st := newLogStore()
	broken := errors.New("disk full")
	st.failAppend = func(ports.AuditEvent) error { return broken }
	ran := false
	err := audit.Before(context.Background(), st, nil, ports.NewShopID(), attempt(), func(context.Context) error {
		ran = true
		return nil
	})
	require.ErrorIs(t, err, broken)
	require.False(t, ran, "the action must not run when its attempt was not recorded")
	require.Empty(t, st.trail)
}

func TestBeforeRefusesInsideAUnitOfWork(t *testing.T) {
	st := newLogStore()
	ctx, err := ports.EnterUnitOfWork(context.Background())
	require.NoError(t, err)
	ran := false
	err = audit.Before(ctx, st, nil, ports.NewShopID(), attempt(), func(context.Context) error { ran = true; return nil })
	require.ErrorIs(t, err, ports.ErrNestedUnitOfWork)
	require.False(t, ran)
}

func TestBeforeRecordsAFailureByClassNotMessage(t *testing.T) {
	st := newLogStore()
	shop := ports.NewShopID()
	err := audit.Before(context.Background(), st, nil, shop, attempt(), func(context.Context) error {
		return fmt.Errorf("user secret@example.test is not a member: %w", ports.ErrNotFound)
	})
	require.ErrorIs(t, err, ports.ErrNotFound)
	log := st.log[shop]
	require.Len(t, log, 2)
	require.Equal(t, ports.OutcomeFailure, log[1].Outcome)
	require.JSONEq(t, fmt.Sprintf(`{"attempt":%q,"error":"not_found"}`, log[0].ID.String()), string(log[1].After))
}

func TestBeforeRecordsAPanicAndReraisesIt(t *testing.T) {
	st := newLogStore()
	shop := ports.NewShopID()
	require.PanicsWithValue(t, "boom", func() {
		_ = audit.Before(context.Background(), st, nil, shop, attempt(), func(context.Context) error { panic("boom") })
	})
	log := st.log[shop]
	require.Len(t, log, 2)
	require.Equal(t, ports.OutcomeFailure, log[1].Outcome)
	require.Contains(t, string(log[1].After), `"error":"panic"`)
}

func TestBeforeReportsAnUnrecordedOutcome(t *testing.T) {
	st := newLogStore()
	shop := ports.NewShopID()
	st.failAppend = func(e ports.AuditEvent) error {
		if e.Outcome != ports.OutcomeAttempted {
			return ports.ErrUnavailable
		}
		return nil
	}
	ran := false
	err := audit.Before(context.Background(), st, nil, shop, attempt(), func(context.Context) error { ran = true; return nil })
	require.True(t, ran)
	require.ErrorIs(t, err, audit.ErrOutcomeNotRecorded)
	require.Len(t, st.log[shop], 1, "the attempt stays, with no outcome after it")

	err = audit.Before(context.Background(), st, nil, shop, attempt(), func(context.Context) error { return ports.ErrForbidden })
	require.ErrorIs(t, err, ports.ErrForbidden, "the action's own error comes first")
}

func TestErrorClass(t *testing.T) {
	tests := []struct {
		give error
		want string
	}{
		{nil, ""},
		{ports.Invalid("reason", "is required"), "invalid"},
		{fmt.Errorf("x: %w", ports.ErrForbidden), "forbidden"},
		{ports.ErrLastOwner, "last_owner"},
		{ports.ErrConflict, "conflict"},
		{context.Canceled, "canceled"},
		{errors.New("password=hunter2"), "error"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, audit.ErrorClass(tt.give), "%v", tt.give)
	}
}
