package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// settingsPerson is a member of a test shop, signed in through the API.
type settingsPerson struct {
	email, password string
	id              ports.UserID
	cookie          string
}

// settingsMember creates a member of s's shop named name with role and
// signs them in through the API.
func settingsMember(t *testing.T, s *site, name string, role ports.Role) settingsPerson {
	t.Helper()
	p := settingsPerson{email: "s-" + strings.ToLower(rand.Text()) + "@example.com", password: rand.Text() + "-Aa1!"}
	u, err := s.e.Auth.CreateUser(t.Context(), p.email, name, p.password)
	require.NoError(t, err)
	p.id = u.ID
	err = s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, role)
		return err
	})
	require.NoError(t, err)
	p.cookie = s.apiSignIn(t, p.email, p.password)
	return p
}

// settingsPost posts form to path on s's shop host with cookie.
func settingsPost(t *testing.T, s *site, path string, form url.Values, cookie string) *http.Response {
	t.Helper()
	return s.do(t, http.MethodPost, path, formType, form.Encode(), cookie, nil)
}

// settingsRole reads user's role in s's shop from the store.
func settingsRole(t *testing.T, s *site, user ports.UserID) ports.Role {
	t.Helper()
	var m ports.Membership
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		m, err = tx.Memberships().Get(ctx, user)
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return m.Role
}

// settingsPolicy reads s's shop's two-factor policy from the store.
func settingsPolicy(t *testing.T, s *site) ports.TwoFactorPolicy {
	t.Helper()
	var p ports.TwoFactorPolicy
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		p, err = tx.TwoFactorPolicy().Get(ctx)
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return p
}

// settingsLocation asserts res is a 303 to loc.
func settingsLocation(t *testing.T, res *http.Response, loc string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, loc, res.Header.Get("Location"))
}

// TestSettingsOverviewAndRename: the overview shows the shop's name, the
// sections and no billing without billing; the rename form renames (and
// the next page shows the new name), refuses an empty name with the
// error tied to the field, and a Viewer gets the 403 page on both.
func TestSettingsOverviewAndRename(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)

	res := s.do(t, http.MethodGet, web.SettingsPath, "", "", owner.cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `href="`+web.MembersPath+`"`)
	require.Contains(t, b, `href="`+web.InvitationsPath+`"`)
	require.Contains(t, b, `href="`+web.TwoFactorPolicyPath+`"`)
	require.NotContains(t, b, "/settings/billing", "no billing configured, no billing form")
	require.Contains(t, b, `<label for="shop-name">`)

	settingsLocation(t, settingsPost(t, s, web.SettingsNamePath, url.Values{"name": {"Corner Bakery"}}, owner.cookie), web.SettingsPath+"?done=renamed")
	res = s.do(t, http.MethodGet, web.SettingsPath+"?done=renamed", "", "", owner.cookie, nil)
	b = body(t, res)
	require.Contains(t, b, `<p class="st-brand">Corner Bakery</p>`, "the next page shows the new name")
	require.Contains(t, b, "The shop has been renamed.")

	res = settingsPost(t, s, web.SettingsNamePath, url.Values{"name": {"  "}}, owner.cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `id="name-error" role="alert"`)
	require.Contains(t, b, `aria-describedby="name-error"`)

	res = s.do(t, http.MethodGet, web.SettingsPath, "", "", viewer.cookie, nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "<h1>Forbidden</h1>")
	res = settingsPost(t, s, web.SettingsNamePath, url.Values{"name": {"Viewer Was Here"}}, viewer.cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "<h1>Forbidden</h1>")
	require.NotContains(t, body(t, s.do(t, http.MethodGet, web.SettingsPath, "", "", owner.cookie, nil)), "Viewer Was Here")
}

// TestSettingsMembers: the members page lists every member; an Owner
// changes a role, signs a member out everywhere and removes one after the
// confirmation step; an Admin's owner-only actions are refused with the
// error tied to the Owner's row; a Viewer gets the 403 page.
func TestSettingsMembers(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	admin := settingsMember(t, s, "Adam Admin", ports.RoleAdmin)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)
	leaver := settingsMember(t, s, "Leo Leaver", ports.RoleTech)

	res := s.do(t, http.MethodGet, web.MembersPath, "", "", owner.cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	for _, p := range []settingsPerson{owner, admin, viewer, leaver} {
		require.Contains(t, b, p.email)
		require.Contains(t, b, `<label for="role-`+p.id.String()+`">`)
	}
	require.Contains(t, b, "Olive Owner")

	t.Run("change role", func(t *testing.T) {
		settingsLocation(t, settingsPost(t, s, web.MembersRolePath, url.Values{"user": {viewer.id.String()}, "role": {"sales"}}, owner.cookie), web.MembersPath+"?done=role")
		require.Equal(t, ports.RoleSales, settingsRole(t, s, viewer.id))
		settingsLocation(t, settingsPost(t, s, web.MembersRolePath, url.Values{"user": {viewer.id.String()}, "role": {"viewer"}}, owner.cookie), web.MembersPath+"?done=role")
	})
	t.Run("unknown role is tied to the row", func(t *testing.T) {
		res := settingsPost(t, s, web.MembersRolePath, url.Values{"user": {viewer.id.String()}, "role": {"wizard"}}, owner.cookie)
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, `id="member-`+viewer.id.String()+`-error" role="alert"`)
		require.Contains(t, b, `aria-describedby="member-`+viewer.id.String()+`-error"`)
		require.Equal(t, ports.RoleViewer, settingsRole(t, s, viewer.id))
	})
	t.Run("admin cannot demote the owner", func(t *testing.T) {
		res := settingsPost(t, s, web.MembersRolePath, url.Values{"user": {owner.id.String()}, "role": {"viewer"}}, admin.cookie)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, `id="member-`+owner.id.String()+`-error" role="alert"`)
		require.Equal(t, ports.RoleOwner, settingsRole(t, s, owner.id))
	})
	t.Run("admin cannot sign the owner out", func(t *testing.T) {
		res := settingsPost(t, s, web.MembersSessionsPath, url.Values{"user": {owner.id.String()}}, admin.cookie)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body(t, res), `id="member-`+owner.id.String()+`-error" role="alert"`)
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", owner.cookie, nil).StatusCode)
	})
	t.Run("admin cannot remove the owner", func(t *testing.T) {
		res := settingsPost(t, s, web.MembersRemovePath, url.Values{"user": {owner.id.String()}}, admin.cookie)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body(t, res), `id="member-`+owner.id.String()+`-error" role="alert"`)
		require.Equal(t, ports.RoleOwner, settingsRole(t, s, owner.id))
	})
	t.Run("viewer is refused", func(t *testing.T) {
		res := s.do(t, http.MethodGet, web.MembersPath, "", "", viewer.cookie, nil)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body(t, res), "<h1>Forbidden</h1>")
		for _, path := range []string{web.MembersRolePath, web.MembersSessionsPath, web.MembersRemovePath} {
			res := settingsPost(t, s, path, url.Values{"user": {leaver.id.String()}, "role": {"owner"}}, viewer.cookie)
			require.Equal(t, http.StatusForbidden, res.StatusCode, path)
		}
		require.Equal(t, ports.RoleTech, settingsRole(t, s, leaver.id))
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", leaver.cookie, nil).StatusCode)
	})
	t.Run("sign a member out everywhere", func(t *testing.T) {
		settingsLocation(t, settingsPost(t, s, web.MembersSessionsPath, url.Values{"user": {leaver.id.String()}}, admin.cookie), web.MembersPath+"?done=signed-out")
		require.Equal(t, http.StatusUnauthorized, s.do(t, http.MethodGet, "/auth/me", "", "", leaver.cookie, nil).StatusCode)
	})
	t.Run("remove after confirming", func(t *testing.T) {
		res := s.do(t, http.MethodGet, web.MembersPath+"?remove="+leaver.id.String(), "", "", owner.cookie, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, "Yes, remove "+leaver.email)
		require.Equal(t, 1, strings.Count(b, `action="/settings/members/remove"`), "only the confirmed member has a remove form")
		settingsLocation(t, settingsPost(t, s, web.MembersRemovePath, url.Values{"user": {leaver.id.String()}}, owner.cookie), web.MembersPath+"?done=removed")
		require.NotContains(t, body(t, s.do(t, http.MethodGet, web.MembersPath, "", "", owner.cookie, nil)), leaver.email)
	})
	t.Run("a member who is not there is a 404", func(t *testing.T) {
		res := settingsPost(t, s, web.MembersRolePath, url.Values{"user": {leaver.id.String()}, "role": {"tech"}}, owner.cookie)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

// TestSettingsInvitations: an Owner invites (the invitation is listed),
// a bad address and a member's address are refused with the error on the
// e-mail field, an Admin inviting an Owner on the role field; revoking
// removes it; a Viewer gets the 403 page.
func TestSettingsInvitations(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	admin := settingsMember(t, s, "Adam Admin", ports.RoleAdmin)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)

	res := s.do(t, http.MethodGet, web.InvitationsPath, "", "", owner.cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), "No invitation is pending.")

	settingsLocation(t, settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"newcomer@example.com"}, "role": {"tech"}}, owner.cookie), web.InvitationsPath+"?done=invited")
	b := body(t, s.do(t, http.MethodGet, web.InvitationsPath+"?done=invited", "", "", owner.cookie, nil))
	require.Contains(t, b, "The invitation is on its way.")
	require.Contains(t, b, `<span class="st-invitation-email">newcomer@example.com</span> as <span class="st-invitation-role">tech</span>`)

	res = settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"not an address"}, "role": {"tech"}}, owner.cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `aria-describedby="invite-email-error"`)
	require.Contains(t, b, `value="not an address"`)

	res = settingsPost(t, s, web.InvitationsPath, url.Values{"email": {viewer.email}, "role": {"tech"}}, owner.cookie)
	require.Equal(t, http.StatusConflict, res.StatusCode)
	require.Contains(t, body(t, res), `id="invite-email-error"`)

	res = settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"boss@example.com"}, "role": {"owner"}}, admin.cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `aria-describedby="invite-role-error"`)
	require.NotContains(t, b, "boss@example.com</span>")

	res = s.do(t, http.MethodGet, web.InvitationsPath, "", "", viewer.cookie, nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res = settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"sneaky@example.com"}, "role": {"admin"}}, viewer.cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "<h1>Forbidden</h1>")

	id := settingsPendingID(t, s, "newcomer@example.com")
	res = settingsPost(t, s, web.InvitationsRevokePath, url.Values{"invitation": {id}}, viewer.cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	settingsLocation(t, settingsPost(t, s, web.InvitationsRevokePath, url.Values{"invitation": {id}}, admin.cookie), web.InvitationsPath+"?done=revoked")
	require.Contains(t, body(t, s.do(t, http.MethodGet, web.InvitationsPath, "", "", owner.cookie, nil)), "No invitation is pending.")
	res = settingsPost(t, s, web.InvitationsRevokePath, url.Values{"invitation": {id}}, admin.cookie)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "a revoked invitation cannot be revoked again")
}

// settingsPendingID returns the ID of the pending invitation of email in
// s's shop.
func settingsPendingID(t *testing.T, s *site, email string) string {
	t.Helper()
	var id string
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		list, err := tx.Invitations().List(ctx, time.Now())
		for _, inv := range list {
			if inv.Email == email {
				id = inv.ID.String()
			}
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	require.NotEmpty(t, id, "no pending invitation for %s", email)
	return id
}

// TestSettingsTwoFactorPolicy: an Owner sees and sets the policy (by
// roles, then for every member, which sends the Owner without a factor
// to the enrolment); an unknown role is refused on the form; an Admin
// and a Viewer get the 403 page and change nothing.
func TestSettingsTwoFactorPolicy(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	admin := settingsMember(t, s, "Adam Admin", ports.RoleAdmin)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)

	res := s.do(t, http.MethodGet, web.TwoFactorPolicyPath, "", "", owner.cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), "Nobody is required to use a second factor.")

	settingsLocation(t, settingsPost(t, s, web.TwoFactorPolicyPath, url.Values{"scope": {"roles"}, "roles": {"tech", "sales"}}, owner.cookie), web.TwoFactorPolicyPath+"?done=policy")
	require.Equal(t, []ports.Role{ports.RoleSales, ports.RoleTech}, settingsPolicy(t, s).Roles)
	b := body(t, s.do(t, http.MethodGet, web.TwoFactorPolicyPath, "", "", owner.cookie, nil))
	require.Contains(t, b, "Members with these roles must use a second factor: sales, tech.")
	require.Contains(t, b, `id="role-tech" name="roles" value="tech" checked`)

	res = settingsPost(t, s, web.TwoFactorPolicyPath, url.Values{"scope": {"roles"}, "roles": {"wizard"}}, owner.cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `id="policy-error" role="alert"`)

	for _, p := range []settingsPerson{admin, viewer} {
		require.Equal(t, http.StatusForbidden, s.do(t, http.MethodGet, web.TwoFactorPolicyPath, "", "", p.cookie, nil).StatusCode)
		res := settingsPost(t, s, web.TwoFactorPolicyPath, url.Values{"scope": {"none"}}, p.cookie)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body(t, res), "<h1>Forbidden</h1>")
	}
	require.Equal(t, []ports.Role{ports.RoleSales, ports.RoleTech}, settingsPolicy(t, s).Roles, "refused posts changed nothing")

	settingsLocation(t, settingsPost(t, s, web.TwoFactorPolicyPath, url.Values{"scope": {"all"}}, owner.cookie), web.TOTPPath)
	require.True(t, settingsPolicy(t, s).AllMembers)
}

// TestSettingsAttacks: another shop's Owner's cookie opens nothing here;
// no session is sent to sign in; a cross-origin post is refused and
// changes nothing.
func TestSettingsAttacks(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)
	other := &site{e: s.e, port: s.port, shop: stockadetest.NewShop(t, s.e.Store)}
	otherOwner := settingsMember(t, other, "Other Owner", ports.RoleOwner)

	for _, path := range []string{web.SettingsPath, web.MembersPath, web.InvitationsPath, web.TwoFactorPolicyPath} {
		settingsLocation(t, s.do(t, http.MethodGet, path, "", "", otherOwner.cookie, nil), web.SignInPath)
		settingsLocation(t, s.do(t, http.MethodGet, path, "", "", "", nil), web.SignInPath)
	}
	res := settingsPost(t, s, web.MembersRolePath, url.Values{"user": {viewer.id.String()}, "role": {"admin"}}, otherOwner.cookie)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Equal(t, ports.RoleViewer, settingsRole(t, s, viewer.id))

	res = s.do(t, http.MethodPost, web.MembersRolePath, formType, url.Values{"user": {viewer.id.String()}, "role": {"admin"}}.Encode(), owner.cookie,
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "cross-origin request refused")
	require.Equal(t, ports.RoleViewer, settingsRole(t, s, viewer.id))
}

// TestBrowserSettingsOwnerFlow: in Chromium an Owner signs in, invites a
// member (the invitation appears in the list), changes a member's role
// with the select, and sets the two-factor policy to "every member",
// which sends them to set up their own authenticator app.
func TestBrowserSettingsOwnerFlow(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	viewer := settingsMember(t, s, "Vera Viewer", ports.RoleViewer)

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		s.signInThroughPage(owner.email, owner.password),
		chromedp.Click(chromedp.CSS(`.st-nav a[href="/settings"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/settings/invitations"]`)),
		chromedp.Click(chromedp.CSS(`main a[href="/settings/invitations"]`)),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "newcomer@example.com"),
		chromedp.SetValue(chromedp.CSS("#invite-role"), "tech"),
		chromedp.Click(chromedp.CSS(`form[action="/settings/invitations"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, "The invitation is on its way.", text(t, ctx, ".st-notice"))
	require.Equal(t, "newcomer@example.com", text(t, ctx, ".st-invitation-email"))
	require.Equal(t, "tech", text(t, ctx, ".st-invitation-role"))

	sel := "#role-" + viewer.id.String()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url(web.MembersPath)),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.SetValue(chromedp.CSS(sel), "admin"),
		chromedp.Click(chromedp.CSS(`li[data-user="`+viewer.id.String()+`"] .st-role-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, "The member's role has been changed.", text(t, ctx, ".st-notice"))
	require.Equal(t, "admin", text(t, ctx, `li[data-user="`+viewer.id.String()+`"] .st-member-role`))
	require.Equal(t, ports.RoleAdmin, settingsRole(t, s, viewer.id))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url(web.TwoFactorPolicyPath)),
		chromedp.WaitVisible(chromedp.CSS("#scope-all")),
		chromedp.Click(chromedp.CSS("#scope-all")),
		chromedp.Click(chromedp.CSS(`form[action="/settings/two-factor"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/security/totp"]`)),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.TOTPPath), loc, "the Owner must now set up their own factor")
	require.True(t, settingsPolicy(t, s).AllMembers)
}

// settingsSite is newSite with edit applied to the configuration and
// the server's log written to logs.
func settingsSite(t *testing.T, edit func(*app.Config), logs io.Writer) *site {
	t.Helper()
	return startSite(t, siteOptions{Edit: edit, Logs: logs})
}

// settingsBillingSite is newSite with billing configured against
// stripe-mock, offering the plan "pro".
func settingsBillingSite(t *testing.T) *site {
	t.Helper()
	mock := testinfra.StartStripeMock(t)
	return settingsSite(t, func(cfg *app.Config) {
		cfg.Stripe.APIKey, cfg.Stripe.APIURL = mock.Key, mock.URL
		cfg.Stripe.WebhookSecrets = "whsec_settings_test_0123456789"
		cfg.Stripe.Plans = "pro=price_SettingsPro"
	}, io.Discard)
}

// settingsLog is a log sink safe for the server's concurrent writers.
type settingsLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *settingsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *settingsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSettingsInvitationLink: the invitation an Owner sends from the page
// mails a link to the invitation page (InvitationPath) on the shop's
// configured host, as the console e-mail provider of development prints
// it.
func TestSettingsInvitationLink(t *testing.T) {
	logs := &settingsLog{}
	s := settingsSite(t, func(*app.Config) {}, logs)
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	settingsLocation(t, settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"linked@example.com"}, "role": {"sales"}}, owner.cookie), web.InvitationsPath+"?done=invited")

	link := regexp.MustCompile(`https?://` + regexp.QuoteMeta(s.shop.Slug) + `\.[^/"\s]+` + regexp.QuoteMeta(web.InvitationPath) + `\?token=[A-Za-z0-9_-]{20,}`)
	require.Eventually(t, func() bool {
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, `"to":"linked@example.com"`) && link.MatchString(line) {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the mailed invitation links to the invitation page on the shop's host")
}

// TestSettingsBilling: with billing configured the Owner's overview has
// the billing forms; checkout and the portal answer a page linking to the
// provider's URL (not a redirect, which the CSP's form-action would
// block); the portal of a shop with no customer yet is refused on the
// billing form; an Admin sees no billing form and is refused.
func TestSettingsBilling(t *testing.T) {
	s := settingsBillingSite(t)
	owner := settingsMember(t, s, "Olive Owner", ports.RoleOwner)
	admin := settingsMember(t, s, "Adam Admin", ports.RoleAdmin)

	b := body(t, s.do(t, http.MethodGet, web.SettingsPath, "", "", owner.cookie, nil))
	require.Contains(t, b, `action="`+web.SettingsBillingPortalPath+`"`)
	require.Contains(t, b, `<input type="hidden" name="plan" value="pro">`)
	require.NotContains(t, body(t, s.do(t, http.MethodGet, web.SettingsPath, "", "", admin.cookie, nil)), "/settings/billing")

	res := settingsPost(t, s, web.SettingsBillingPortalPath, nil, owner.cookie)
	require.Equal(t, http.StatusConflict, res.StatusCode, "no customer yet")
	require.Contains(t, body(t, res), `id="billing-error" role="alert"`)

	res = settingsPost(t, s, web.SettingsBillingCheckoutPath, url.Values{"plan": {"pro"}}, owner.cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Regexp(t, `<a class="st-button st-billing-continue" href="https?://[^"]+">Continue to the checkout</a>`, body(t, res))

	res = settingsPost(t, s, web.SettingsBillingCheckoutPath, url.Values{"plan": {"gold"}}, owner.cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `id="billing-error" role="alert"`)

	res = settingsPost(t, s, web.SettingsBillingCheckoutPath, url.Values{"plan": {"pro"}}, admin.cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	// The checkout made the shop a provider customer: the portal opens.
	res = settingsPost(t, s, web.SettingsBillingPortalPath, nil, owner.cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Regexp(t, `href="https?://[^"]+">Continue to the billing portal</a>`, body(t, res))
}

// TestBrowserSettingsNarrowScreen: at 320 px wide no settings page
// scrolls sideways (long names and addresses wrap), and every visible
// input and select has a label.
func TestBrowserSettingsNarrowScreen(t *testing.T) {
	s := newSite(t, web.Options{})
	owner := settingsMember(t, s, "A rather long display name that must wrap on a narrow phone screen", ports.RoleOwner)
	settingsMember(t, s, "Vera Viewer", ports.RoleViewer)
	settingsLocation(t, settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"a-very-long-address-for-a-narrow-screen@example.com"}, "role": {"tech"}}, owner.cookie),
		web.InvitationsPath+"?done=invited")

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(320, 640), s.signInThroughPage(owner.email, owner.password)))
	const unlabelled = `[...document.querySelectorAll("input:not([type=hidden]), select")].filter(i => !i.labels || i.labels.length === 0).length`
	for _, path := range []string{web.SettingsPath, web.MembersPath, web.InvitationsPath, web.TwoFactorPolicyPath} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url(path)), chromedp.WaitVisible(chromedp.CSS("h1"))))
		require.Equal(t, s.url(path), eval[string](t, ctx, `location.href`))
		require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "%s fits", path)
		require.Zero(t, eval[int](t, ctx, unlabelled), "%s labels its fields", path)
	}
}

// TestShopRenameSeenByPagesAndAPI: the pages and the API share one host
// → shop resolver: a rename through the API's PATCH /shop is on the next
// page at once, and a rename through the settings page is in the API's
// next GET /auth/me at once, though each had the old name cached (the
// cache keeps a shop 30 s unless a change drops it).
func TestShopRenameSeenByPagesAndAPI(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	owner := s.apiSignIn(t, email, password)
	html := map[string]string{"Accept": "text/html"}
	brand := func() string {
		t.Helper()
		res := s.do(t, http.MethodGet, web.SecurityPath, "", "", owner, html)
		require.Equal(t, http.StatusOK, res.StatusCode)
		m := regexp.MustCompile(`<p class="st-brand">([^<]+)</p>`).FindStringSubmatch(body(t, res))
		require.Len(t, m, 2)
		return m[1]
	}
	apiName := func() string {
		t.Helper()
		res := s.do(t, http.MethodGet, "/auth/me", "", "", owner, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		var me struct {
			Shop struct{ Name string } `json:"shop"`
		}
		require.NoError(t, json.Unmarshal([]byte(body(t, res)), &me))
		return me.Shop.Name
	}
	old := brand()
	require.Equal(t, old, apiName(), "both have the shop cached")

	res := s.do(t, http.MethodPatch, "/shop", "application/json", `{"name":"Renamed by the API"}`, owner, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body(t, res))
	require.Equal(t, "Renamed by the API", brand(), "the page sees the API's rename at once")

	res = s.do(t, http.MethodPost, web.SettingsNamePath, "application/x-www-form-urlencoded", url.Values{"name": {"Renamed by the page"}}.Encode(), owner, html)
	require.Less(t, res.StatusCode, 400, body(t, res))
	require.Equal(t, "Renamed by the page", apiName(), "the API sees the page's rename at once")
}
