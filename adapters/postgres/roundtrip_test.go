package postgres_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// tripCounter dials connections that count round trips: a round trip is
// a write followed by the first read of the reply.
type tripCounter struct{ trips atomic.Int64 }

// Dial is a postgres.DialFunc.
func (d *tripCounter) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, trips: &d.trips}, nil
}

type countingConn struct {
	net.Conn
	mu    sync.Mutex
	wrote bool
	trips *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wrote = true
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.wrote {
		c.trips.Add(1)
		c.wrote = false
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// countTrips runs fn once to warm the pool's connection, then again,
// returning the round trips of the second run.
func countTrips(t *testing.T, d *tripCounter, fn func() error) int64 {
	t.Helper()
	require.NoError(t, fn())
	before := d.trips.Load()
	require.NoError(t, fn())
	return d.trips.Load() - before
}

// TestRoundTripsPerUnitOfWork pins the cost of the tenant boundary in
// round trips: the tenant setting (and BEGIN) travel with the first
// statement; a read-only unit of work of one statement is one round trip,
// a read-write one adds COMMIT; a request's session and one read are two.
func TestRoundTripsPerUnitOfWork(t *testing.T) {
	d := &tripCounter{}
	s, _ := fresh(t, postgres.WithDialer(d.Dial), postgres.WithMaxConns(1))
	a, _ := twoShops(t, s)
	ctx := context.Background()
	var user ports.UserID
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		ms, err := tx.Memberships().List(ctx)
		user = ms[0].UserID
		return err
	}))

	read := countTrips(t, d, func() error {
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Get(ctx, user)
			return err
		}, ports.ReadOnly())
	})
	assert.Equal(t, int64(1), read, "set_config and the SELECT in one pipeline, no BEGIN or COMMIT")

	empty := countTrips(t, d, func() error {
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error { return nil })
	})
	assert.Equal(t, int64(0), empty, "a unit of work that sends nothing costs nothing")

	write := countTrips(t, d, func() error {
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().SetRole(ctx, user, ports.RoleOwner); err != nil {
				return err
			}
			_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: s.Now(), Actor: "system", Action: "x", Outcome: ports.OutcomeSuccess})
			return err
		})
	})
	assert.Equal(t, int64(3), write, "BEGIN+set_config+UPDATE, audit append (one statement), COMMIT")

	sa := withAuth(t, s, a, tokenHash("trips"))
	resolve := countTrips(t, d, func() error {
		_, err := s.ResolveSession(ctx, a, sa.session.ID)
		return err
	})
	assert.Equal(t, int64(1), resolve, "ResolveSession: set_config and the prepared SELECT in one pipeline")

	request := countTrips(t, d, func() error {
		if _, err := s.ResolveSession(ctx, a, sa.session.ID); err != nil {
			return err
		}
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Get(ctx, user)
			return err
		}, ports.ReadOnly())
	})
	assert.Equal(t, int64(2), request, "a request with a session and one read")

	// An impersonation session too: the live-impersonation check is a
	// function call inside the same SELECT.
	var op ports.Operator
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "trips@ops.example.com"}, "$argon2id$x")
		return err
	}))
	var imp ports.Session
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		i, err := tx.Impersonations().Create(ctx, ports.Impersonation{
			ID: ports.NewImpersonationID(), OperatorID: op.ID, UserID: sa.user, Reason: "trips",
			CodeHash: tokenHash("code"), CodeExpiresAt: s.Now().Add(time.Minute), ExpiresAt: s.Now().Add(time.Hour),
		})
		if err != nil {
			return err
		}
		imp, err = tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: sa.user, TokenHash: tokenHash("imp"), Method: "impersonation",
			ExpiresAt: i.ExpiresAt, Impersonation: i.ID,
		})
		return err
	}))
	var rs ports.ResolvedSession
	resolveImp := countTrips(t, d, func() error {
		var err error
		rs, err = s.ResolveSession(ctx, a, imp.ID)
		return err
	})
	assert.Equal(t, int64(1), resolveImp, "an impersonation session resolves in one round trip too")
	assert.Equal(t, op.ID, rs.Impersonator)
	readSession := countTrips(t, d, func() error {
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Sessions().Get(ctx, sa.session.ID); err != nil {
				return err
			}
			_, err := tx.Memberships().Get(ctx, sa.user)
			return err
		}, ports.ReadOnly())
	})
	assert.Equal(t, int64(2), readSession, "the same read through a read-only InShop: two statements, each with its setting")

	plain := sqlx.NewDb(s.DB().DB, "pgx")
	direct := countTrips(t, d, func() error {
		var n int
		return plain.Get(&n, `SELECT count(*) FROM roles WHERE name = $1`, "owner")
	})
	assert.Equal(t, int64(1), direct, "a parameterised statement outside a unit of work is one round trip")
}

// TestSwallowedErrorDoesNotCommitSilently: a statement fails, fn ignores
// the error and returns nil; PostgreSQL would answer COMMIT with a silent
// ROLLBACK. The store must report the failure instead of success.
func TestSwallowedErrorDoesNotCommitSilently(t *testing.T) {
	s, _ := fresh(t)
	a, _ := twoShops(t, s)
	ctx := context.Background()
	err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		_, _ = tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: s.Now(), Actor: "system", Action: "kept?", Outcome: ports.OutcomeSuccess})
		_, dupErr := tx.Memberships().Add(ctx, ports.NewUserID(), ports.RoleOwner) // unknown user: aborts the transaction
		require.ErrorIs(t, dupErr, ports.ErrNotFound)
		return nil
	})
	require.Error(t, err, "commit of an aborted transaction must not look like success")
	var n int
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		log, err := tx.Audit().List(ctx, ports.AuditQuery{})
		n = len(log)
		return err
	}))
	assert.Equal(t, 1, n, "only the seed event; the swallowed unit of work wrote nothing")
	// and the pool is healthy afterwards
	require.NoError(t, s.Ping(ctx))
}

func TestMigrations(t *testing.T) {
	s, pg := fresh(t)
	again, err := postgres.Migrate(context.Background(), pg.OwnerURL)
	require.NoError(t, err)
	assert.Empty(t, again.Applied, "migrate is idempotent")

	owner := sqlx.MustConnect("pgx", pg.OwnerURL)
	defer owner.Close()
	owner.MustExec(`INSERT INTO stockade_schema_migrations (version_id, is_applied) VALUES (9999, true)`)
	_, err = postgres.Migrate(context.Background(), pg.OwnerURL)
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	_, err = postgres.Open(context.Background(), pg.AppURL)
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	require.ErrorIs(t, s.Ping(context.Background()), ports.ErrSchemaTooNew, "readiness notices too")
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want error
	}{
		{"malformed", "postgres://%zz", ports.ErrInvalid},
		{"wrong scheme", "mysql://u:p@localhost/db", ports.ErrInvalid},
		{"unreachable", "postgres://u:secret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", ports.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(context.Background(), tt.give)
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), "secret-pw", "passwords never reach error text")
		})
	}
}
