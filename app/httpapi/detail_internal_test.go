package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stockadehq/stockade/ports"
)

// Guards PublicDetail: the store's layers are left out, the use case's
// words and the sentinel stay.
func TestPublicDetail(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("storage: file 42: %w", fmt.Errorf("sqlite: get file: %w", ports.ErrNotFound)), "storage: file 42: not found"},
		{fmt.Errorf("revoke session: %w", fmt.Errorf("postgres: get session: %w", ports.ErrNotFound)), "revoke session: not found"},
		{fmt.Errorf("retry job: %w", fmt.Errorf("sqlite: retry job: no dead job: %w", ports.ErrNotFound)), "retry job: not found"},
		{fmt.Errorf("sqlite: get shop by slug: %w", ports.ErrNotFound), "not found"},
		{fmt.Errorf("create: %w", fmt.Errorf("postgres: x: %w", ports.Invalid("record", "refused"))), "create: invalid input: record: refused"},
		{fmt.Errorf("too many attempts: %w", ports.ErrRateLimited), "too many attempts: rate limited"},
		{ports.Invalid("slug", `"www" is reserved`), `invalid input: slug: "www" is reserved`},
		{errors.Join(fmt.Errorf("pq: boom: %w", ports.ErrConflict)), "conflict"},
		{fmt.Errorf("x: %v", fmt.Errorf("sql: no rows: %w", ports.ErrNotFound)), "error"},
	} {
		if got := PublicDetail(tc.err); got != tc.want {
			t.Errorf("PublicDetail(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
