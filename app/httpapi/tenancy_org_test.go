package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// The org-role attacks of issue 16 item 9: PUT /org/members was an account
// oracle (204 for any platform account, 404 otherwise), unlimited, and gave
// org roles to strangers without their consent. Each test runs on SQLite
// and on Postgres as the application role.

func onBothMatrixStores(t *testing.T, fn func(t *testing.T, w *matrixWorld)) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			fn(t, newMatrixWorld(t, pg))
		})
	}
}

// offerOrgRole is PUT /org/members by cookie's user on alpha's host.
func offerOrgRole(t *testing.T, a *matrixAPI, cookie, email string, role ports.OrgRole) (int, string) {
	t.Helper()
	res := a.send("PUT", "/org/members", "alpha", cookie, fmt.Sprintf(`{"email":%q,"role":%q}`, email, role), "application/json")
	return res.StatusCode, readBody(t, res)
}

// orgRoleOf reads u's role in org straight from the store ("" for none).
func orgRoleOf(t *testing.T, w *matrixWorld, org ports.OrgID, u ports.User) ports.OrgRole {
	t.Helper()
	var m ports.OrgMember
	err := w.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		m, err = tx.OrgMembers().Get(ctx, org, u.ID)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return ""
	}
	require.NoError(t, err)
	return m.Role
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)`)
	reqRE  = regexp.MustCompile(`"request_id":"[^"]*"`)
)

// shapeOf is an answer body with the address it names, IDs, request IDs
// and times replaced by placeholders: what is left must not depend on whether the
// address has an account.
func shapeOf(body, email string) string {
	body = reqRE.ReplaceAllString(strings.ReplaceAll(body, email, "<email>"), `"request_id":"<id>"`)
	return timeRE.ReplaceAllString(uuidRE.ReplaceAllString(body, "<id>"), "<time>")
}

// acceptOrg posts token to /org/invitations/accept on slug's host.
func acceptOrg(a *matrixAPI, slug, cookie, token string) *http.Response {
	return a.send("POST", "/org/invitations/accept", slug, cookie, `{"token":"`+token+`"}`, "application/json")
}

// TestOrgRoleOfferIsNoAccountOracle: an org owner offers an org role to
// an address with a platform account and to one without; the two answers
// have the same status and body (but for the address, IDs and times).
// Before the fix: 204 for the account, 404 for the stranger.
func TestOrgRoleOfferIsNoAccountOracle(t *testing.T) {
	onBothMatrixStores(t, func(t *testing.T, w *matrixWorld) {
		a := w.api(access.DefaultPolicy())
		owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)
		const stranger = "nobody.at.all@nowhere.test"
		knownStatus, knownBody := offerOrgRole(t, a, owner, w.bob.Email, ports.OrgAdmin)
		unknownStatus, unknownBody := offerOrgRole(t, a, owner, stranger, ports.OrgAdmin)
		require.Equal(t, knownStatus, unknownStatus, "status for an account (%s) and a stranger (%s)", knownBody, unknownBody)
		require.Equal(t, http.StatusAccepted, knownStatus, knownBody)
		require.Equal(t, shapeOf(knownBody, w.bob.Email), shapeOf(unknownBody, stranger))

		// Removing a role: outsiders with and without an account are one
		// answer too.
		res := a.send("PUT", "/org/members", "alpha", owner, fmt.Sprintf(`{"email":%q,"role":""}`, w.bob.Email), "application/json")
		knownStatus, knownBody = res.StatusCode, readBody(t, res)
		res = a.send("PUT", "/org/members", "alpha", owner, fmt.Sprintf(`{"email":%q,"role":""}`, stranger), "application/json")
		unknownStatus, unknownBody = res.StatusCode, readBody(t, res)
		require.Equal(t, http.StatusNotFound, knownStatus, knownBody)
		require.Equal(t, knownStatus, unknownStatus)
		require.Equal(t, shapeOf(knownBody, w.bob.Email), shapeOf(unknownBody, stranger))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, w.bob), "bob was given nothing")
	})
}

// TestOrgRoleNeedsTheInviteesConsent: offering a role creates none; the
// invitee, signed in on a shop of the org as the invited address's
// account, accepts with the mailed token and only then holds it; the
// token is spent. Before the fix the role existed at once.
func TestOrgRoleNeedsTheInviteesConsent(t *testing.T) {
	onBothMatrixStores(t, func(t *testing.T, w *matrixWorld) {
		a := w.api(access.DefaultPolicy())
		owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)
		invitee := w.byRole[ports.RoleViewer]
		status, body := offerOrgRole(t, a, owner, invitee.Email, ports.OrgAdmin)
		require.Less(t, status, 300, body)
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, invitee), "no org role exists before the invitee accepts")
		res := a.send("GET", "/org/members", "alpha", owner, "", "")
		require.NotContains(t, readBody(t, res), invitee.Email)

		link, token := w.mailer.lastLink(t)
		require.Equal(t, "alpha.example.test", link.Host)
		require.Equal(t, httpapi.OrgInvitationLinkPath, link.Path, "the mailed link opens app/web's page")
		res = a.send("GET", "/org/invitations/accept?"+link.RawQuery, "alpha", "", "", "")
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "a link mailed before the page: 303 to it")
		require.Equal(t, link.RequestURI(), res.Header.Get("Location"))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, invitee), "opening the link changes nothing")

		res = acceptOrg(a, "alpha", "", token)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "accepting needs the invitee's session: "+readBody(t, res))
		cookie, _ := w.signIn(a, "alpha", invitee.Email)
		res = acceptOrg(a, "alpha", cookie, token)
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
		require.Equal(t, ports.OrgAdmin, orgRoleOf(t, w, w.alpha.OrgID, invitee))
		evs := w.alphaEvents(t, "org.role_changed")
		require.NotEmpty(t, evs)
		require.Equal(t, "user:"+invitee.ID.String(), evs[len(evs)-1].Actor, "the invitee's acceptance is audited")
		res = acceptOrg(a, "alpha", cookie, token)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "single use: "+readBody(t, res))
		res = a.send("GET", "/hq/shops/bravo/shop", "alpha", cookie, "", "")
		require.Equal(t, http.StatusOK, res.StatusCode, "the accepted role works: "+readBody(t, res))
	})
}

// TestOrgInvitationCanBeDeclinedOrIgnored: a declined invitation and an
// ignored (expired) one give no role and cannot be accepted afterwards.
func TestOrgInvitationCanBeDeclinedOrIgnored(t *testing.T) {
	onBothMatrixStores(t, func(t *testing.T, w *matrixWorld) {
		a := w.api(access.DefaultPolicy())
		owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)

		decliner := w.byRole[ports.RoleViewer]
		status, body := offerOrgRole(t, a, owner, decliner.Email, ports.OrgOwner)
		require.Less(t, status, 300, body)
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, decliner))
		_, declined := w.mailer.lastLink(t)
		res := a.send("POST", "/org/invitations/decline", "alpha", "", `{"token":"`+declined+`"}`, "application/json")
		require.Equal(t, http.StatusNoContent, res.StatusCode, "no account or session needed to say no: "+readBody(t, res))
		require.Len(t, w.alphaEvents(t, "org.invitation.declined"), 1)
		cookie, _ := w.signIn(a, "alpha", decliner.Email)
		res = acceptOrg(a, "alpha", cookie, declined)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "a declined invitation is spent: "+readBody(t, res))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, decliner))

		ignorer := w.byRole[ports.RoleTech]
		status, body = offerOrgRole(t, a, owner, ignorer.Email, ports.OrgAdmin)
		require.Less(t, status, 300, body)
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, ignorer))
		_, ignored := w.mailer.lastLink(t)
		w.clock.Advance(7*24*time.Hour + time.Second)
		cookie, _ = w.signIn(a, "alpha", ignorer.Email)
		res = acceptOrg(a, "alpha", cookie, ignored)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "an ignored invitation expires: "+readBody(t, res))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, ignorer))
	})
}

// TestOrgInvitationTokenIsBoundToOrgAndAddress: the token presented by
// another signed-in account of the org, or by the invitee signed in on a
// shop of another org, is refused like an unknown one and changes
// nothing; the invitee can still accept it afterwards.
func TestOrgInvitationTokenIsBoundToOrgAndAddress(t *testing.T) {
	onBothMatrixStores(t, func(t *testing.T, w *matrixWorld) {
		a := w.api(access.DefaultPolicy())
		ctx := context.Background()
		owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)
		invitee, other := w.byRole[ports.RoleViewer], w.byRole[ports.RoleSales]
		elsewhere, shop, err := a.tenancy.CreateOrg(access.With(ctx, access.Scope{System: "test"}), tenancy.NewOrg{Name: "Elsewhere", Slug: "elsewhere"})
		require.NoError(t, err)
		_, err = a.tenancy.AddMember(access.System(ctx, shop.ID, elsewhere.ID, "test"), invitee.Email, ports.RoleViewer)
		require.NoError(t, err)

		status, body := offerOrgRole(t, a, owner, invitee.Email, ports.OrgAdmin)
		require.Less(t, status, 300, body)
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, invitee))
		_, token := w.mailer.lastLink(t)

		otherCookie, _ := w.signIn(a, "alpha", other.Email)
		res := acceptOrg(a, "alpha", otherCookie, token)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "another address: "+readBody(t, res))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, other))

		away, _ := w.signIn(a, "elsewhere", invitee.Email)
		res = acceptOrg(a, "elsewhere", away, token)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "another org's shop: "+readBody(t, res))
		res = a.send("POST", "/org/invitations/decline", "elsewhere", "", `{"token":"`+token+`"}`, "application/json")
		require.Equal(t, http.StatusNotFound, res.StatusCode, "declining on another org's shop: "+readBody(t, res))
		require.Empty(t, orgRoleOf(t, w, elsewhere.ID, invitee))
		require.Empty(t, orgRoleOf(t, w, w.alpha.OrgID, invitee))

		cookie, _ := w.signIn(a, "alpha", invitee.Email)
		res = acceptOrg(a, "alpha", cookie, token)
		require.Equal(t, http.StatusOK, res.StatusCode, "the refusals left the invitation pending: "+readBody(t, res))
		require.Equal(t, ports.OrgAdmin, orgRoleOf(t, w, w.alpha.OrgID, invitee))
	})
}

// TestOrgRoleOffersAreRateLimited: offers are counted per inviter and per
// client address; over either limit the answer is 429 and nothing is sent.
func TestOrgRoleOffersAreRateLimited(t *testing.T) {
	onBothMatrixStores(t, func(t *testing.T, w *matrixWorld) {
		a := w.api(access.DefaultPolicy())
		ctx := context.Background()
		inAlpha := access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test")
		owner, _ := w.signIn(a, "alpha", w.orgOwner.Email)
		const perInviter, perIP = 20, 60 // tenancy.Config's defaults
		n := 0
		offer := func(cookie string) (int, string) {
			n++
			return offerOrgRole(t, a, cookie, fmt.Sprintf("probe-%d@nowhere.test", n), ports.OrgAdmin)
		}
		for range perInviter {
			status, body := offer(owner)
			require.NotEqual(t, http.StatusTooManyRequests, status, body)
		}
		sent := len(w.mailer.messages())
		status, body := offer(owner)
		require.Equal(t, http.StatusTooManyRequests, status, "one inviter over the limit: "+body)
		require.Len(t, w.mailer.messages(), sent, "a refused offer sends nothing")

		// More org owners behind the same client address: the address's
		// own counter stops them.
		var cookies []string
		for _, r := range []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleTech, ports.RoleSales} {
			require.NoError(t, a.tenancy.SetOrgRole(inAlpha, w.byRole[r].Email, ports.OrgOwner))
			c, _ := w.signIn(a, "alpha", w.byRole[r].Email)
			cookies = append(cookies, c)
		}
		for i := perInviter + 1; i < perIP; i++ {
			status, body := offer(cookies[i%3])
			require.NotEqual(t, http.StatusTooManyRequests, status, body)
		}
		status, body = offer(cookies[3])
		require.Equal(t, http.StatusTooManyRequests, status, "one address over the limit: "+body)
		require.Contains(t, body, "this address")
	})
}

// alphaEvents returns alpha's audit events with action, oldest first.
func (w *matrixWorld) alphaEvents(t *testing.T, action string) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	err := w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}
