package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/sqlstore"
)

// TestOutsideAccessIndexMatches: migration 00032's partial index is
// declared WHERE exactly the predicate the store writes for
// ports.AuditFilter.OutsideAccess (SQLite uses a partial index only for a
// query whose condition contains its predicate), and the access review's
// query is planned on it.
func TestOutsideAccessIndexMatches(t *testing.T) {
	pred := sqlstore.OutsideAccessSQL(dialect{})
	text, err := os.ReadFile("migrations/00032_audit_outside_access.sql")
	require.NoError(t, err)
	up, _, ok := strings.Cut(string(text), ";\n\n-- +goose Down")
	require.True(t, ok)
	_, where, ok := strings.Cut(up, "\nWHERE ")
	require.True(t, ok)
	assert.Equal(t, pred, strings.Join(strings.Fields(where), " "), "the index's WHERE is the store's predicate")

	path := filepath.Join(t.TempDir(), "stockade.db")
	_, err = Migrate(context.Background(), "sqlite://"+path)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT seq FROM audit_events WHERE shop_id = ? AND `+pred+
		` AND at >= ? AND seq > ? ORDER BY seq LIMIT ?`, "x", 0, 0, 1000)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, strings.Join(plan, "\n"), "USING INDEX audit_events_outside", "the review's query is planned on the partial index")
}
