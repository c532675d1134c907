package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

func TestAppendRecordsTheCallerInTheUnitOfWork(t *testing.T) {
	s := newLogStore()
	shop, user := ports.NewShopID(), ports.NewUserID()
	clock := &fixedClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	ctx := access.With(context.Background(), access.Scope{
		Shop: shop, User: user, Role: ports.RoleOwner, Impersonator: "operator:7",
		IP: "192.0.2.1", UserAgent: "ua", RequestID: "req-1",
	})
	require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := audit.Append(ctx, tx, clock, audit.Change{
			Action: "quote.created", Target: "quote:1",
			Before: json.RawMessage(`{"raw":true}`), After: map[string]int{"cents": 100},
		})
		return err
	}))
	require.Len(t, s.log[shop], 1)
	got := s.log[shop][0]
	assert.Equal(t, "user:"+user.String(), got.Actor)
	assert.Equal(t, "operator:7", got.Impersonator)
	assert.Equal(t, "quote.created", got.Action)
	assert.Equal(t, "quote:1", got.Target)
	assert.Equal(t, ports.OutcomeSuccess, got.Outcome)
	assert.JSONEq(t, `{"raw":true}`, string(got.Before))
	assert.JSONEq(t, `{"cents":100}`, string(got.After))
	assert.Equal(t, "192.0.2.1", got.IP)
	assert.Equal(t, "ua", got.UserAgent)
	assert.Equal(t, "req-1", got.RequestID)
	assert.Equal(t, time.Date(2030, 1, 2, 3, 4, 6, 0, time.UTC), got.Time)
	assert.False(t, got.ID.IsZero())
}

func TestAppendRefusesWithoutTheShopsCaller(t *testing.T) {
	s := newLogStore()
	shop := ports.NewShopID()
	other := access.With(context.Background(), access.Scope{Shop: ports.NewShopID(), User: ports.NewUserID(), Role: ports.RoleOwner})
	for name, ctx := range map[string]context.Context{"no scope": context.Background(), "another shop's scope": other} {
		err := s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := audit.Append(ctx, tx, nil, audit.Change{Action: "quote.created"})
			return err
		})
		require.ErrorIs(t, err, ports.ErrForbidden, name)
	}
	assert.Empty(t, s.log[shop])
}

func TestAppendFailureFailsTheUnitOfWork(t *testing.T) {
	s := newLogStore()
	boom := errors.New("disk full")
	s.failAppend = func(ports.AuditEvent) error { return boom }
	shop := ports.NewShopID()
	ctx := access.With(context.Background(), access.Scope{Shop: shop, System: "test"})
	err := s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := audit.Append(ctx, tx, nil, audit.Change{Action: "quote.created"})
		return err
	})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, s.log[shop])
}

func TestAppendAsRecordsTheGivenActor(t *testing.T) {
	s := newLogStore()
	shop := ports.NewShopID()
	clock := &fixedClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := audit.AppendAs(ctx, tx, clock, audit.By{Actor: "invitee:a@example.com", IP: "192.0.2.9", RequestID: "req-9"},
			audit.Change{Action: "org.invitation.declined", Target: "org_invitation:1", Outcome: ports.OutcomeDenied,
				After: json.RawMessage(`{"n":1}`)})
		return err
	}))
	require.Len(t, s.log[shop], 1)
	got := s.log[shop][0]
	assert.Equal(t, "invitee:a@example.com", got.Actor)
	assert.Empty(t, got.Impersonator)
	assert.Equal(t, ports.OutcomeDenied, got.Outcome)
	assert.Equal(t, "192.0.2.9", got.IP)
	assert.Equal(t, "req-9", got.RequestID)
	assert.True(t, clock.t.Equal(got.Time))
	assert.JSONEq(t, `{"n":1}`, string(got.After))
}
