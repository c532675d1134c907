package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
)

// TestOutsideAccessIndexMatches: migration 00032's partial index is
// declared WHERE exactly the predicate the store writes for
// ports.AuditFilter.OutsideAccess (Postgres uses a partial index only for
// a query whose condition implies its predicate), and the access review's
// query can be planned on it.
func TestOutsideAccessIndexMatches(t *testing.T) {
	text, err := os.ReadFile("migrations/00032_audit_outside_access.sql")
	require.NoError(t, err)
	up, _, ok := strings.Cut(string(text), ";\n\n-- +goose Down")
	require.True(t, ok)
	_, where, ok := strings.Cut(up, "\nWHERE ")
	require.True(t, ok)
	assert.Equal(t, postgres.OutsideAccessSQL, strings.Join(strings.Fields(where), " "), "the index's WHERE is the store's predicate")

	_, pg := fresh(t)
	db, err := sql.Open("pgx", pg.OwnerURL)
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	// The table is empty: keep the planner off the sequential scan so the
	// choice is between the indexes.
	_, err = conn.ExecContext(context.Background(), `SET enable_seqscan = off`)
	require.NoError(t, err)
	rows, err := conn.QueryContext(context.Background(), `EXPLAIN SELECT seq FROM audit_events WHERE shop_id = '00000000-0000-0000-0000-000000000000' AND `+
		postgres.OutsideAccessSQL+` AND at >= now() - interval '90 days' AND seq > 0 ORDER BY seq LIMIT 1000`)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan = append(plan, line)
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, strings.Join(plan, "\n"), "audit_events_outside", "the review's query can be planned on the partial index")
}
