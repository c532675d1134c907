package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Any member may create an org; none may take a host label visitors would
// trust as the platform's own (www.…, login.…, admin.…), whether they type
// it, dress it up, or let it be derived from the shop's name. An org owner
// adding a shop is refused alike. The answer is a 400 naming the slug, and
// no shop is created. Guards tenancy's cleanSlug reserved check.
func TestReservedShopSlugs(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			viewer, _ := w.signIn(a, "alpha", w.byRole[ports.RoleViewer].Email)
			for _, tc := range []struct{ body, slug string }{
				{`{"name":"Platform","slug":"www"}`, "www"},
				{`{"name":"Platform","slug":" Admin "}`, "admin"},
				{`{"name":"Operator"}`, "operator"},
				{`{"name":"Acme","shop_name":"Login"}`, "login"},
				{`{"name":"Mail","slug":"mail"}`, "mail"},
				{`{"name":"Status","slug":"status"}`, "status"},
			} {
				res := a.send("POST", "/orgs", "alpha", viewer, tc.body, "application/json")
				p := problemOf(t, res, http.StatusBadRequest)
				require.Len(t, p.Errors, 1, tc.body)
				assert.Equal(t, "slug", p.Errors[0].Field, tc.body)
				assert.Contains(t, p.Errors[0].Reason, "reserved", tc.body)
				assert.Contains(t, p.Detail, tc.slug)
				requireNoShop(t, w.raw, tc.slug)
			}
			owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)
			p := problemOf(t, a.send("POST", "/org/shops", "alpha", owner, `{"slug":"api","name":"API"}`, "application/json"), http.StatusBadRequest)
			assert.Contains(t, p.Detail, "reserved")
			requireNoShop(t, w.raw, "api")

			res := a.send("POST", "/orgs", "alpha", viewer, `{"name":"Www Plumbing","slug":"www-plumbing"}`, "application/json")
			assert.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))
		})
	}
}

func requireNoShop(t *testing.T, st ports.Store, slug string) {
	t.Helper()
	err := st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Shops().GetBySlug(ctx, slug)
		return err
	}, ports.ReadOnly())
	require.ErrorIs(t, err, ports.ErrNotFound, "no shop %q", slug)
}
