package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// BenchmarkListMembers measures tenancy.ListMembers, what the members page
// (/settings/members) and the API's members list read, for a shop of 15
// and of 200 members on each store. Compare runs with benchstat:
//
//	go test ./app -run '^$' -bench ListMembers -count 10 | tee members.txt
//	benchstat -col /members members.txt
func BenchmarkListMembers(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB) ports.Store
	}{
		{"sqlite", func(t testing.TB) ports.Store { return stockadetest.SQLite(t) }},
		{"postgres", func(t testing.TB) ports.Store { return stockadetest.Postgres(t) }},
	} {
		b.Run("store="+be.name, func(b *testing.B) {
			st := be.open(b)
			svc := benchTenancy(b, st)
			for _, n := range []int{15, 200} {
				b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
					shop := stockadetest.NewShop(b, st)
					addBenchMembers(b, st, shop.ID, n-1) // and the shop's owner
					ctx := access.System(context.Background(), shop.ID, shop.Org, "bench")
					b.ReportAllocs()
					for b.Loop() {
						ms, err := svc.ListMembers(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if len(ms) != n {
							b.Fatalf("%d members, want %d", len(ms), n)
						}
					}
				})
			}
		})
	}
}

// benchTenancy is a tenancy service on st; the auth service it needs is
// never asked to hash a password here.
func benchTenancy(b testing.TB, st ports.Store) *tenancy.Service {
	b.Helper()
	keys, err := auth.NewKeyring(auth.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(b, err)
	mail, err := authmail.New(authmail.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(b, err)
	a, err := auth.New(auth.Deps{Store: st, Hasher: benchNoHasher{}, Policy: benchNoPolicy{}, Keys: keys, Mail: mail}, auth.Config{})
	require.NoError(b, err)
	svc, err := tenancy.New(tenancy.Deps{Store: st, Auth: a, Mail: mail}, tenancy.Config{})
	require.NoError(b, err)
	return svc
}

// addBenchMembers gives the shop n more members (viewers), each a new
// account.
func addBenchMembers(b testing.TB, st ports.Store, shop ports.ShopID, n int) {
	b.Helper()
	ctx := context.Background()
	ids := make([]ports.UserID, n)
	require.NoError(b, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		for i := range ids {
			ids[i] = ports.NewUserID()
			if _, err := tx.Users().Create(ctx, ports.User{ID: ids[i], Email: fmt.Sprintf("m%d-%s@example.com", i, ids[i]), Name: fmt.Sprintf("Member %d", i)}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(b, st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for _, id := range ids {
			if _, err := tx.Memberships().Add(ctx, id, ports.RoleViewer); err != nil {
				return err
			}
		}
		return nil
	}))
}

type benchNoHasher struct{}

func (benchNoHasher) Hash(context.Context, string) (string, error) { return "", ports.ErrUnsupported }
func (benchNoHasher) Verify(context.Context, string, string) (bool, bool, error) {
	return false, false, ports.ErrUnsupported
}

type benchNoPolicy struct{}

func (benchNoPolicy) Check(string, string) error { return nil }
