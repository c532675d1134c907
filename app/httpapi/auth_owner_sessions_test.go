package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// An Admin holds members.sessions but not members.owners: ending an
// Owner's sessions is refused (403, audited as denied) and the Owner stays
// signed in, while the Admin may still end a tech's sessions and an Owner
// may end another Owner's. Guards manage.go RevokeMemberSessions' Owner
// check.
func TestAdminCannotEndOwnerSessions(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		const adaPassword = "ada-Admin-compass-2031"
		ada := h.createUser("ada@example.test", "Ada Admin", adaPassword)
		h.addMember(h.acme, ada, ports.RoleAdmin)
		annCookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		adaCookie, _ := h.signIn("acme.example.test", "ada@example.test", adaPassword)
		tomCookie, _ := h.signIn("acme.example.test", "tom@example.test", tomPassword)

		res := h.serve(call{method: http.MethodDelete, path: "/auth/members/" + h.ann.ID.String() + "/sessions", cookie: adaCookie})
		problemOf(t, res, http.StatusForbidden)
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", annCookie), "the owner is still signed in")
		denied := h.events(h.acme, "auth.member_sessions.revoked")
		require.Len(t, denied, 1)
		assert.Equal(t, ports.OutcomeDenied, denied[0].Outcome)
		assert.Equal(t, "user:"+ada.ID.String(), denied[0].Actor)
		assert.Equal(t, "user:"+h.ann.ID.String(), denied[0].Target)

		res = h.serve(call{method: http.MethodDelete, path: "/auth/members/" + h.tom.ID.String() + "/sessions", cookie: adaCookie})
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", tomCookie))

		res = h.serve(call{method: http.MethodDelete, path: "/auth/members/" + ada.ID.String() + "/sessions", cookie: annCookie})
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", adaCookie))
	})
}
