package cli_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// TestAuditListAndExport (AUD-6): audit list filters and orders; audit
// export writes JSON Lines or CSV to a file only when it succeeds, and is
// itself audited; bad flags fail with one readable line.
func TestAuditListAndExport(t *testing.T) {
	dir := t.TempDir()
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(dir, "data")}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	appendEvents(t, env, "acme", 4) // actions x.0 … x.3

	out, err := runIn(t, env, "", "audit", "list", "--shop", "acme", "--action", "x.*")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	assert.Contains(t, lines[1], "x.3", "newest first")
	assert.Contains(t, lines[4], "x.0")
	out, err = runIn(t, env, "", "audit", "list", "--shop", "acme", "--action", "x.2", "--oldest")
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "\n"), out)

	path := filepath.Join(dir, "acme.jsonl")
	_, err = runIn(t, env, "", "audit", "export", "--shop", "acme", "--out", path)
	require.NoError(t, err)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var recs []audit.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		recs = append(recs, r)
	}
	require.NotEmpty(t, recs)
	last := recs[len(recs)-1]
	assert.Equal(t, "audit.exported", last.Action)
	assert.Equal(t, "system:cli", last.Actor)
	assert.Equal(t, ports.OutcomeAttempted, last.Outcome)

	out, err = runIn(t, env, "", "audit", "list", "--shop", "acme", "--action", "audit.exported")
	require.NoError(t, err)
	assert.Contains(t, out, "success", "the outcome is recorded after the export")
	assert.Contains(t, out, "attempted")

	csvPath := filepath.Join(dir, "acme.csv")
	_, err = runIn(t, env, "", "audit", "export", "--shop", "acme", "--format", "csv", "--action", "x.1", "--out", csvPath)
	require.NoError(t, err)
	b, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "x.1", rows[1][5])

	for _, args := range [][]string{
		{"audit", "list", "--action", "x.*"},                                                             // no --shop
		{"audit", "list", "--shop", "acme", "--since", "last tuesday"},                                   // bad time
		{"audit", "list", "--shop", "acme", "--action", "x*"},                                            // bad pattern
		{"audit", "export", "--shop", "acme", "--format", "xml", "--out", filepath.Join(dir, "bad.xml")}, // bad format
	} {
		_, err := runIn(t, env, "", args...)
		require.ErrorIs(t, err, ports.ErrInvalid, args)
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
	_, err = os.Stat(filepath.Join(dir, "bad.xml"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a refused export leaves no file")
	_, err = runIn(t, env, "", "audit", "export", "--shop", "nowhere", "--out", filepath.Join(dir, "none.jsonl"))
	require.ErrorIs(t, err, ports.ErrNotFound)
	_, err = os.Stat(filepath.Join(dir, "none.jsonl"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".audit-export-"), "no temporary file left: %s", e.Name())
	}
}
