package porttest

import (
	"io/fs"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// WithoutTenantTableHelper returns the Postgres app migrations of src with
// every `SELECT stockade_tenant_table('t');` replaced by a plain grant to
// the application role: the tables work, but nothing walls them. It is
// the broken schema TestAppTables must fail on (use it with
// ExpectFailure); want is how many helper calls src holds, checked so the
// variant cannot silently stay whole.
func WithoutTenantTableHelper(t *testing.T, src fs.FS, want int) fs.FS {
	t.Helper()
	names, err := fs.Glob(src, "*.sql")
	require.NoError(t, err)
	helper := regexp.MustCompile(`SELECT stockade_tenant_table\('(\w+)'\);`)
	out, replaced := fstest.MapFS{}, 0
	for _, name := range names {
		data, err := fs.ReadFile(src, name)
		require.NoError(t, err)
		replaced += len(helper.FindAll(data, -1))
		out[name] = &fstest.MapFile{Data: helper.ReplaceAll(data, []byte(`GRANT SELECT, INSERT, UPDATE, DELETE ON $1 TO stockade_app;`))}
	}
	require.Equal(t, want, replaced, "porttest: every tenant table loses the helper")
	return out
}
