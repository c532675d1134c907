package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// TestListMembersReadsAccountsInOneBatch: the members list reads the
// members' accounts with one UserRepo.GetMany, not one Get per member
// (an N+1 that cost a round trip per member on Postgres), and still
// pairs each membership with its own account.
func TestListMembersReadsAccountsInOneBatch(t *testing.T) {
	const extra = 30
	st := stockadetest.SQLite(t)
	counted := &userCountingStore{Store: st}
	svc := benchTenancy(t, counted)
	shop := stockadetest.NewShop(t, st)
	addBenchMembers(t, st, shop.ID, extra)
	ctx := access.System(context.Background(), shop.ID, shop.Org, "test")

	counted.reads = userReads{}
	ms, err := svc.ListMembers(ctx)
	require.NoError(t, err)
	require.Len(t, ms, extra+1, "the members added and the shop's owner")
	assert.Equal(t, userReads{getMany: 1}, counted.reads, "one batch read of the accounts, no Get")
	require.NoError(t, st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		for _, m := range ms {
			u, err := tx.Users().Get(ctx, m.UserID)
			if err != nil {
				return err
			}
			assert.Equal(t, [2]string{u.Email, u.Name}, [2]string{m.Email, m.Name}, "member %s", m.UserID)
		}
		return nil
	}, ports.ReadOnly()))
}

// userReads counts the reads of user accounts through a userCountingStore.
type userReads struct{ get, getMany int }

// userCountingStore is a store that counts Users().Get and GetMany calls.
type userCountingStore struct {
	ports.Store
	reads userReads
}

func (s *userCountingStore) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	return s.Store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return fn(ctx, userCountingGlobalTx{GlobalTx: tx, reads: &s.reads})
	}, opts...)
}

type userCountingGlobalTx struct {
	ports.GlobalTx
	reads *userReads
}

func (tx userCountingGlobalTx) Users() ports.UserRepo {
	return userCountingUsers{UserRepo: tx.GlobalTx.Users(), reads: tx.reads}
}

type userCountingUsers struct {
	ports.UserRepo
	reads *userReads
}

func (r userCountingUsers) Get(ctx context.Context, id ports.UserID) (ports.User, error) {
	r.reads.get++
	return r.UserRepo.Get(ctx, id)
}

func (r userCountingUsers) GetMany(ctx context.Context, ids []ports.UserID) (map[ports.UserID]ports.User, error) {
	r.reads.getMany++
	return r.UserRepo.GetMany(ctx, ids)
}
