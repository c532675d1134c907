package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// jobBackend opens a migrated store through app.OpenStore: SQLite on a
// file, or Postgres connected as the application role (RLS applies), the
// owner role migrating first.
type jobBackend struct {
	name string
	open func(t testing.TB) (ports.Store, *testinfra.Postgres)
}

var jobBackends = []jobBackend{
	{"sqlite", func(t testing.TB) (ports.Store, *testinfra.Postgres) {
		cfg := app.Default()
		cfg.DataDir = t.TempDir()
		require.NoError(t, app.PrepareDataDir(cfg))
		return openJobStore(t, cfg), nil
	}},
	{"postgres", func(t testing.TB) (ports.Store, *testinfra.Postgres) {
		pg := testinfra.StartPostgres(t)
		cfg := app.Default()
		cfg.Database.URL, cfg.Database.MigrateURL = pg.AppURL, pg.OwnerURL
		return openJobStore(t, cfg), &pg
	}},
}

func openJobStore(t testing.TB, cfg app.Config) ports.Store {
	t.Helper()
	st, err := app.OpenStore(context.Background(), cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// tenant is one seeded shop: a member and a file row of its own.
type tenant struct {
	shop ports.ShopID
	user ports.UserID
	file ports.FileID
}

// seedTenants creates an org with n shops, each with one owner and one
// file, through the port.
func seedTenants(t testing.TB, st ports.Store, n int) []tenant {
	t.Helper()
	ctx := context.Background()
	out := make([]tenant, n)
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		for i := range out {
			out[i] = tenant{shop: ports.NewShopID(), user: ports.NewUserID(), file: ports.NewFileID()}
			slug := fmt.Sprintf("shop-%d", i)
			if _, err := tx.Shops().Create(ctx, ports.Shop{ID: out[i].shop, OrgID: org.ID, Slug: slug, Name: slug, Status: ports.ShopActive}); err != nil {
				return err
			}
			if _, err := tx.Users().Create(ctx, ports.User{ID: out[i].user, Email: slug + "@example.com"}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, tn := range out {
		require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().Add(ctx, tn.user, ports.RoleOwner); err != nil {
				return err
			}
			_, err := tx.Files().Create(ctx, ports.File{
				ID: tn.file, Kind: "photo", Name: "roof.jpg", ContentType: "image/jpeg", UploadedBy: tn.user,
				State: ports.FilePending, ObjectKey: "shops/" + tn.shop.String() + "/photo/" + tn.file.String(),
			})
			return err
		}))
	}
	return out
}

func enqueueJob(t testing.TB, st ports.Store, shop ports.ShopID, j ports.Job) ports.Job {
	t.Helper()
	var out ports.Job
	require.NoError(t, st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Enqueue(ctx, j)
		return err
	}))
	return out
}

func jobIn(t testing.TB, st ports.Store, shop ports.ShopID, id ports.JobID) ports.Job {
	t.Helper()
	var out ports.Job
	require.NoError(t, st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Get(ctx, id)
		return err
	}, ports.ReadOnly()))
	return out
}

// drain runs rounds until one claims nothing.
func drain(t testing.TB, r *jobs.Runner) {
	t.Helper()
	for range 100 {
		n, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the queue did not drain in 100 rounds")
}

func noBackoff(int) time.Duration { return 0 }

// TestJobsEndToEnd runs handlers on both stores: a flaky handler whose
// failed attempts' writes roll back and whose third attempt commits, and a
// handler that always fails until its job is dead.
func TestJobsEndToEnd(t *testing.T) {
	for _, be := range jobBackends {
		t.Run(be.name, func(t *testing.T) {
			st, _ := be.open(t)
			tn := seedTenants(t, st, 1)[0]
			var newcomer ports.UserID
			require.NoError(t, st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
				u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "new@example.com"})
				newcomer = u.ID
				return err
			}))
			r, err := app.NewJobRunner(app.JobParts{Store: st}, jobs.Config{Backoff: noBackoff})
			require.NoError(t, err)
			r.Handle("member.add", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
				var p struct{ User ports.UserID }
				if err := json.Unmarshal(j.Payload, &p); err != nil {
					return jobs.Permanent(err)
				}
				if _, err := tx.Memberships().Add(ctx, p.User, ports.RoleTech); err != nil {
					return err // a second Add would conflict: the failed attempts' Adds were rolled back
				}
				if j.Attempts < 3 {
					return errors.New("mail server busy")
				}
				return nil
			})
			r.Handle("report.mail", func(context.Context, ports.ShopTx, ports.Job) error { return errors.New("smtp down") })

			payload, _ := json.Marshal(map[string]any{"user": newcomer})
			flaky := enqueueJob(t, st, tn.shop, ports.Job{ID: ports.NewJobID(), Kind: "member.add", Payload: payload, MaxAttempts: 5})
			doomed := enqueueJob(t, st, tn.shop, ports.Job{ID: ports.NewJobID(), Kind: "report.mail", MaxAttempts: 2})
			drain(t, r)

			got := jobIn(t, st, tn.shop, flaky.ID)
			assert.Equal(t, ports.JobDone, got.State)
			assert.Equal(t, 3, got.Attempts, "two failures, then success")
			assert.Equal(t, "mail server busy", got.LastError, "the last failure stays on record")
			var roles []ports.Role
			require.NoError(t, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
				m, err := tx.Memberships().Get(ctx, newcomer)
				roles = append(roles, m.Role)
				return err
			}, ports.ReadOnly()))
			assert.Equal(t, []ports.Role{ports.RoleTech}, roles, "the successful attempt's write committed with its completion")

			got = jobIn(t, st, tn.shop, doomed.ID)
			assert.Equal(t, ports.JobDead, got.State, "dead-lettered after MaxAttempts")
			assert.Equal(t, 2, got.Attempts)
			assert.Equal(t, "smtp down", got.LastError)
		})
	}
}

// TestJobHandlerIsHeldToItsShop is the acceptance test of TEN-8: a job of
// shop A whose handler reaches for shop B's rows by their known IDs sees
// none of them, while the same reads of A's own rows succeed. On Postgres
// the store is the application role's, so row-level security holds the
// handler's transaction to A as well as the repositories' predicates do.
func TestJobHandlerIsHeldToItsShop(t *testing.T) {
	for _, be := range jobBackends {
		t.Run(be.name, func(t *testing.T) {
			st, pg := be.open(t)
			ts := seedTenants(t, st, 2)
			a, b := ts[0], ts[1]
			future := enqueueJob(t, st, b.shop, ports.Job{ID: ports.NewJobID(), Kind: "probe", RunAt: time.Now().Add(time.Hour)})

			type read struct {
				name string
				err  error
			}
			var reads []read
			var members []ports.UserID
			r, err := app.NewJobRunner(app.JobParts{Store: st}, jobs.Config{})
			require.NoError(t, err)
			r.Handle("probe", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
				note := func(name string, err error) { reads = append(reads, read{name, err}) }
				_, err := tx.Memberships().Get(ctx, b.user)
				note("B's member", err)
				_, err = tx.Files().Get(ctx, b.file)
				note("B's file", err)
				_, err = tx.Jobs().Get(ctx, future.ID)
				note("B's job", err)
				_, err = tx.Memberships().Get(ctx, a.user)
				note("A's member", err)
				_, err = tx.Files().Get(ctx, a.file)
				note("A's file", err)
				ms, err := tx.Memberships().List(ctx)
				for _, m := range ms {
					members = append(members, m.UserID)
				}
				return err
			})
			job := enqueueJob(t, st, a.shop, ports.Job{ID: ports.NewJobID(), Kind: "probe"})
			n, err := r.RunOnce(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, n, "B's job is not due")
			require.Equal(t, ports.JobDone, jobIn(t, st, a.shop, job.ID).State)

			require.Len(t, reads, 5)
			for _, rd := range reads[:3] {
				assert.ErrorIs(t, rd.err, ports.ErrNotFound, rd.name)
			}
			for _, rd := range reads[3:] {
				assert.NoError(t, rd.err, rd.name)
			}
			assert.Equal(t, []ports.UserID{a.user}, members, "A's members only")

			if pg == nil {
				return
			}
			// Below the port, on the application role's own connection with
			// the job's shop set as InShop sets it: SQL naming B's rows
			// finds none.
			db := sqlx.MustConnect("pgx", pg.AppURL)
			defer db.Close()
			tx := db.MustBegin()
			defer tx.Rollback()
			_, err = tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, a.shop.String())
			require.NoError(t, err)
			for _, q := range []struct{ table, key, id string }{
				{"memberships", "user_id", b.user.String()}, {"files", "id", b.file.String()}, {"jobs", "id", future.ID.String()},
				{"memberships", "shop_id", b.shop.String()}, {"files", "shop_id", b.shop.String()}, {"jobs", "shop_id", b.shop.String()},
			} {
				var count int
				require.NoError(t, tx.Get(&count, `SELECT count(*) FROM `+q.table+` WHERE `+q.key+` = $1`, q.id))
				assert.Zero(t, count, "%s where %s = B's", q.table, q.key)
			}
			var mine int
			require.NoError(t, tx.Get(&mine, `SELECT count(*) FROM files WHERE id = $1`, a.file.String()))
			assert.Equal(t, 1, mine, "A's own file is there")
		})
	}
}

// TestJobsModuleRunsBetweenStartAndStop: the module runs the runner once
// the store is open, and Stop cancels a job in hand, hands it back to the
// queue and returns before the store closes.
func TestJobsModuleRunsBetweenStartAndStop(t *testing.T) {
	cfg := fxConfig(t)
	var (
		store  ports.Store
		runner *jobs.Runner
	)
	started := make(chan struct{})
	a := fx.New(
		app.ConfigModule(cfg), app.LogModule(), app.StoreModule(), app.JobsModule(),
		app.WithLogOutput(&syncBuffer{}),
		fx.Supply(jobs.Config{PollInterval: 10 * time.Millisecond}),
		fx.Invoke(func(r *jobs.Runner) {
			r.Handle("quick", func(context.Context, ports.ShopTx, ports.Job) error { return nil })
			r.Handle("long", func(ctx context.Context, _ ports.ShopTx, _ ports.Job) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
		}),
		fx.Populate(&store, &runner),
		fx.NopLogger,
	)
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))

	shop := seedTenants(t, store, 1)[0].shop
	quick := enqueueJob(t, store, shop, ports.Job{ID: ports.NewJobID(), Kind: "quick"})
	runner.Wake()
	require.Eventually(t, func() bool { return jobIn(t, store, shop, quick.ID).State == ports.JobDone }, 10*time.Second, 5*time.Millisecond)

	long := enqueueJob(t, store, shop, ports.Job{ID: ports.NewJobID(), Kind: "long"})
	runner.Wake()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the long job did not start")
	}
	require.NoError(t, a.Stop(ctx))

	again := openJobStore(t, cfg)
	got := jobIn(t, again, shop, long.ID)
	assert.Equal(t, ports.JobQueued, got.State, "handed back to the queue")
	assert.Equal(t, 1, got.Attempts)
	assert.Contains(t, got.LastError, "context canceled")
	assert.False(t, got.RunAt.After(time.Now()), "due again at once")
}

func TestNewJobRunnerNeedsAQueue(t *testing.T) {
	_, err := app.NewJobRunner(app.JobParts{Store: plainStore{}}, jobs.Config{})
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = app.NewJobRunner(app.JobParts{}, jobs.Config{})
	require.ErrorIs(t, err, ports.ErrInvalid)
}

// plainStore is a ports.Store without a job queue.
type plainStore struct{ ports.Store }

// TestJobsModuleWithoutAQueue: a replacement store that offers no job
// queue leaves background jobs off, with a warning, and the app starts.
func TestJobsModuleWithoutAQueue(t *testing.T) {
	cfg := fxConfig(t)
	var logs syncBuffer
	var runner *jobs.Runner
	a := fx.New(
		app.ConfigModule(cfg), app.LogModule(), app.StoreModule(), app.JobsModule(),
		app.WithLogOutput(&logs),
		fx.Decorate(func(st ports.Store) ports.Store { return plainStore{st} }),
		fx.Populate(&runner),
		fx.NopLogger,
	)
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	require.NoError(t, a.Stop(ctx))
	assert.Contains(t, logs.String(), "background jobs are off")
	_, err := runner.RunOnce(ctx)
	require.ErrorIs(t, err, ports.ErrUnsupported)
}
