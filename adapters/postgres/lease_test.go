package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestClaimFunctionsBoundTheLease calls the claim functions the way a SQL
// injection as the application role could, with a lease of a century:
// before migration 00018 that took every due job (or message) out of the
// runners' reach for a hundred years. Now the functions refuse any lease
// over ports.MaxLease and the job stays due.
func TestClaimFunctionsBoundTheLease(t *testing.T) {
	s, _ := fresh(t)
	a, _ := twoShops(t, s)
	ctx := context.Background()
	var job ports.Job
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		job, err = tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "mail"})
		return err
	}))
	db := s.DB()
	for _, fn := range []string{"stockade_claim_jobs", "stockade_claim_outbox"} {
		for _, lease := range []string{"100 years", "24 hours 1 microsecond", "2 days"} {
			t.Run(fn+" "+lease, func(t *testing.T) {
				var n int
				err := db.Get(&n, `SELECT count(*) FROM `+fn+`(now() + interval '1 minute', 1000, $1::interval, now())`, lease)
				require.Error(t, err, "claimed %d", n)
				assert.Equal(t, "22023", sqlState(err), "invalid_parameter_value: %v", err)
			})
		}
	}

	var got ports.Job
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		got, err = tx.Jobs().Get(ctx, job.ID)
		return err
	}))
	assert.Equal(t, ports.JobQueued, got.State, "the job is still due")

	claimed, err := s.Claim(ctx, s.Now().Add(ports.MaxLease), 10, ports.MaxLease)
	require.NoError(t, err, "a lease of exactly MaxLease is allowed")
	require.Len(t, claimed, 1)
	assert.Equal(t, job.ID, claimed[0].ID)
	_, err = s.Claim(ctx, s.Now(), 10, ports.MaxLease+1)
	require.ErrorIs(t, err, ports.ErrInvalid, "the Go caller checks the bound too")
}
