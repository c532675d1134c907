package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// Paths of the shop settings' form posts (the pages' own paths are in
// nav.go).
const (
	// SettingsNamePath renames the shop: {name}.
	SettingsNamePath = SettingsPath + "/name"
	// SettingsBillingPortalPath opens the billing provider's portal: a
	// page whose link continues there (see settingsBillingPortal).
	SettingsBillingPortalPath = SettingsPath + "/billing/portal"
	// SettingsBillingCheckoutPath starts a subscription to {plan}: a page
	// whose link continues to the provider's hosted checkout.
	SettingsBillingCheckoutPath = SettingsPath + "/billing/checkout"
	// MembersRolePath changes a member's role: {user, role}.
	MembersRolePath = MembersPath + "/role"
	// MembersRemovePath removes a member: {user}. The members page asks
	// for the confirmation first (GET MembersPath?remove=<user>).
	MembersRemovePath = MembersPath + "/remove"
	// MembersSessionsPath signs a member out everywhere: {user}.
	MembersSessionsPath = MembersPath + "/sessions"
	// InvitationsRevokePath withdraws a pending invitation: {invitation}.
	InvitationsRevokePath = InvitationsPath + "/revoke"
)

// settingsRoutes registers the shop settings for Owner and Admin:
// members and roles, invitations, the two-factor policy, billing. They
// need Deps.Tenancy; without it none is served.
//
//	GET  /settings                        overview: rename form, the sections, billing when configured
//	POST /settings/name                   {name} → tenancy.Rename
//	POST /settings/billing/portal         a link to the billing portal (billing.OpenPortal; recent authentication)
//	POST /settings/billing/checkout       {plan} → a link to the hosted checkout (billing.StartCheckout; recent authentication)
//	GET  /settings/members[?remove=user]  members with role forms; ?remove asks to confirm a removal
//	POST /settings/members/role           {user, role} → tenancy.ChangeRole (recent authentication)
//	POST /settings/members/remove         {user} → tenancy.RemoveMember
//	POST /settings/members/sessions       {user} → auth.RevokeMemberSessions
//	GET  /settings/invitations            invite form and the pending invitations
//	POST /settings/invitations            {email, role} → tenancy.Invite (link to InvitationPath)
//	POST /settings/invitations/revoke     {invitation} → tenancy.RevokeInvitation
//	GET  /settings/two-factor             the shop's two-factor policy (Owners)
//	POST /settings/two-factor             {all_members, roles} → auth.SetTwoFactorPolicy (recent authentication)
//
// Every page needs access.MembersManage (a Viewer gets the 403 page) on
// top of what its use case checks; the routes that are sensitive in the
// API (httpapi sensitiveRoute) need a recent authentication here too.
func (p *Pages) settingsRoutes(mux *http.ServeMux, g guards) {
	if p.d.Tenancy == nil {
		return
	}
	chain := p.chain
	onShop, sess, banner, csrf, recent := g.onShop, g.sess, g.banner, g.csrf, g.recent
	mux.Handle("GET "+SettingsPath, chain(p.settingsPage, onShop, sess, banner))
	mux.Handle("POST "+SettingsNamePath, chain(p.settingsRename, csrf, onShop, sess, banner))
	if p.d.Billing != nil {
		mux.Handle("POST "+SettingsBillingPortalPath, chain(p.settingsBillingPortal, csrf, onShop, sess, banner, recent))
		mux.Handle("POST "+SettingsBillingCheckoutPath, chain(p.settingsBillingCheckout, csrf, onShop, sess, banner, recent))
	}
	mux.Handle("GET "+MembersPath, chain(p.membersPage, onShop, sess, banner))
	mux.Handle("POST "+MembersRolePath, chain(p.membersChangeRole, csrf, onShop, sess, banner, recent))
	mux.Handle("POST "+MembersRemovePath, chain(p.membersRemove, csrf, onShop, sess, banner))
	mux.Handle("POST "+MembersSessionsPath, chain(p.membersSignOut, csrf, onShop, sess, banner))
	mux.Handle("GET "+InvitationsPath, chain(p.invitationsPage, onShop, sess, banner))
	mux.Handle("POST "+InvitationsPath, chain(p.invite, csrf, onShop, sess, banner))
	mux.Handle("POST "+InvitationsRevokePath, chain(p.revokeInvitation, csrf, onShop, sess, banner))
	mux.Handle("GET "+TwoFactorPolicyPath, chain(p.twoFactorPolicyPage, onShop, sess, banner))
	mux.Handle("POST "+TwoFactorPolicyPath, chain(p.setTwoFactorPolicy, csrf, onShop, sess, banner, recent))
}

// settingsNotices are the messages a redirect back to a settings page may
// ask for (?done=…); any other value shows nothing.
var settingsNotices = map[string]string{
	"renamed":    "The shop has been renamed.",
	"role":       "The member's role has been changed.",
	"removed":    "The member has been removed from the shop.",
	"signed-out": "The member has been signed out everywhere.",
	"invited":    "The invitation is on its way.",
	"revoked":    "The invitation has been revoked.",
	"policy":     "The two-factor policy has been saved.",
}

// settingsRoles are the roles offered by the role selects, strongest
// first.
var settingsRoles = []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleTech, ports.RoleSales, ports.RoleViewer}

// requireManager is the settings pages' own guard: the caller's role must
// hold access.MembersManage (the permission the navigation shows "Shop
// settings" for), whatever its use cases would let it read.
func (p *Pages) requireManager(r *http.Request) error {
	_, err := p.d.Policy.Require(r.Context(), access.MembersManage)
	return err
}

// settingsData is the overview's data.
type settingsData struct {
	Shop ports.Shop
	// Billing is set when billing is configured; Plans are its plans.
	Billing bool
	Plans   []string
	// TwoFactor is set when the caller may see the two-factor policy.
	TwoFactor bool
}

func (p *Pages) settingsPage(w http.ResponseWriter, r *http.Request) {
	p.settingsOverview(w, r, http.StatusOK, view{Notice: settingsNotices[r.URL.Query().Get("done")]})
}

func (p *Pages) settingsOverview(w http.ResponseWriter, r *http.Request, status int, v view) {
	if err := p.requireManager(r); err != nil {
		p.fail(w, r, err)
		return
	}
	shop, err := p.d.Tenancy.Shop(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	d := settingsData{Shop: shop, TwoFactor: p.d.Policy.Allows(pr.Role, access.MembersOwners)}
	if p.d.Billing != nil && p.d.Policy.Allows(pr.Role, access.BillingManage) {
		d.Billing, d.Plans = true, p.d.Billing.Plans()
	}
	v.Title = "Shop settings"
	v.Data = d
	p.render(w, r, status, "settings", v)
}

func (p *Pages) settingsRename(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err == nil {
		err = p.requireManager(r)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, err := p.d.Tenancy.Rename(r.Context(), f.Get("name"))
	if err != nil {
		msg, fields := formErrors(err, nil)
		if fields["name"] == "" {
			fields["name"] = msg
		}
		p.settingsOverview(w, r, httpapi.StatusOf(err), view{Form: "name", Error: msg, FieldErrors: fields})
		return
	}
	// The host → shop cache holds the old name: as PATCH /shop does.
	p.d.Shops.Forget(shop.Slug)
	http.Redirect(w, r, SettingsPath+"?done=renamed", http.StatusSeeOther)
}

// settingsURL is path on the request's shop's host, from configuration.
func (p *Pages) settingsURL(r *http.Request, path string) string {
	shop, _ := httpapi.ShopFrom(r.Context())
	return p.d.Shops.URL(shop.Slug, path)
}

// billingData is the page that hands the browser over to the billing
// provider.
type billingData struct {
	// URL is the provider's page, made for this shop a moment ago.
	URL string
	// What names it: "billing portal" or "checkout".
	What string
}

// settingsBillingPortal opens the billing portal (billing.OpenPortal, as
// POST /billing/portal); its return link leads back to the settings.
//
// The answer is a page with a link to the provider, not a redirect: the
// pages' CSP has form-action 'self', which browsers apply to the
// redirects that follow a form post too, so a 303 to the provider's
// origin would be blocked (Chromium keeps the page where it was).
func (p *Pages) settingsBillingPortal(w http.ResponseWriter, r *http.Request) {
	rd, err := p.d.Billing.OpenPortal(r.Context(), p.settingsURL(r, SettingsPath))
	p.settingsBillingHandOver(w, r, rd, err, "billing portal")
}

// settingsBillingCheckout starts a subscription to the posted plan
// (billing.StartCheckout, as POST /billing/checkout) and links to the
// hosted checkout, as settingsBillingPortal does.
func (p *Pages) settingsBillingCheckout(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	back := p.settingsURL(r, SettingsPath)
	rd, err := p.d.Billing.StartCheckout(r.Context(), billing.CheckoutInput{
		Plan: f.Get("plan"), SuccessURL: back + "?checkout=success", CancelURL: back + "?checkout=cancelled",
	})
	p.settingsBillingHandOver(w, r, rd, err, "checkout")
}

// settingsBillingHandOver shows the link to the provider's rd, or the
// overview with err on the billing form.
func (p *Pages) settingsBillingHandOver(w http.ResponseWriter, r *http.Request, rd ports.Redirect, err error, what string) {
	if err == nil && !strings.HasPrefix(rd.URL, "https://") && !strings.HasPrefix(rd.URL, "http://") {
		err = fmt.Errorf("billing provider answered a %s URL that is not http(s)", what)
	}
	if err != nil {
		msg, _ := formErrors(err, nil)
		p.settingsOverview(w, r, httpapi.StatusOf(err), view{Form: "billing", Error: msg})
		return
	}
	p.render(w, r, http.StatusOK, "settingsbilling", view{Title: "Billing", Data: billingData{URL: rd.URL, What: what}})
}

// memberRow is one member on the members page.
type memberRow struct {
	tenancy.Member
	// Error is why the last action on this member was refused.
	Error string
	// Confirm is set when the page asks to confirm removing this member.
	Confirm bool
	// Self is the caller's own row.
	Self bool
}

// membersData is the members page's data.
type membersData struct {
	Members []memberRow
	Roles   []ports.Role
	// Sessions is set when the caller may sign members out.
	Sessions bool
}

func (p *Pages) membersPage(w http.ResponseWriter, r *http.Request) {
	remove := r.URL.Query().Get("remove")
	p.membersView(w, r, http.StatusOK, settingsNotices[r.URL.Query().Get("done")], remove, "", "")
}

// membersView renders the members page with status; confirm is the user
// whose removal is to be confirmed, rowErr the message tied to the row of
// user errUser.
func (p *Pages) membersView(w http.ResponseWriter, r *http.Request, status int, notice, confirm, errUser, rowErr string) {
	if err := p.requireManager(r); err != nil {
		p.fail(w, r, err)
		return
	}
	list, err := p.d.Tenancy.ListMembers(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	d := membersData{Roles: settingsRoles, Sessions: p.d.Policy.Allows(pr.Role, access.MembersSessions)}
	for _, m := range list {
		id := m.UserID.String()
		row := memberRow{Member: m, Confirm: id == confirm, Self: m.UserID == pr.User}
		if id == errUser {
			row.Error = rowErr
		}
		d.Members = append(d.Members, row)
	}
	p.render(w, r, status, "settingsmembers", view{Title: "Members", Notice: notice, Data: d})
}

// memberAction reads the posted member (field "user") after the settings
// guard; a malformed ID or a refused guard is the error page.
func (p *Pages) memberAction(w http.ResponseWriter, r *http.Request) (url.Values, ports.UserID, bool) {
	f, err := readForm(w, r)
	if err == nil {
		err = p.requireManager(r)
	}
	var user ports.UserID
	if err == nil {
		user, err = ports.ParseUserID(f.Get("user"))
	}
	if err != nil {
		p.fail(w, r, err)
		return nil, ports.UserID{}, false
	}
	return f, user, true
}

// memberRefused shows the members page again with err tied to user's
// row; a user who is not a member (any more) is the error page.
func (p *Pages) memberRefused(w http.ResponseWriter, r *http.Request, user ports.UserID, err error) {
	if errors.Is(err, ports.ErrNotFound) {
		p.fail(w, r, err)
		return
	}
	msg, _ := formErrors(err, nil)
	p.membersView(w, r, httpapi.StatusOf(err), "", "", user.String(), msg)
}

func (p *Pages) membersChangeRole(w http.ResponseWriter, r *http.Request) {
	f, user, ok := p.memberAction(w, r)
	if !ok {
		return
	}
	if _, err := p.d.Tenancy.ChangeRole(r.Context(), user, ports.Role(f.Get("role"))); err != nil {
		p.memberRefused(w, r, user, err)
		return
	}
	http.Redirect(w, r, MembersPath+"?done=role", http.StatusSeeOther)
}

func (p *Pages) membersRemove(w http.ResponseWriter, r *http.Request) {
	_, user, ok := p.memberAction(w, r)
	if !ok {
		return
	}
	if err := p.d.Tenancy.RemoveMember(r.Context(), user); err != nil {
		p.memberRefused(w, r, user, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if user == pr.User {
		// The caller left the shop: their sessions here ended with it.
		httpapi.ClearSessionCookie(w)
		http.Redirect(w, r, SignInPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, MembersPath+"?done=removed", http.StatusSeeOther)
}

func (p *Pages) membersSignOut(w http.ResponseWriter, r *http.Request) {
	_, user, ok := p.memberAction(w, r)
	if !ok {
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if _, err := p.d.Auth.RevokeMemberSessions(r.Context(), pr, user, p.client(r)); err != nil {
		p.memberRefused(w, r, user, err)
		return
	}
	if user == pr.User {
		httpapi.ClearSessionCookie(w)
		http.Redirect(w, r, SignInPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, MembersPath+"?done=signed-out", http.StatusSeeOther)
}

// invitationsData is the invitations page's data.
type invitationsData struct {
	Pending []ports.Invitation
	Roles   []ports.Role
	// Role is the role selected in the invite form.
	Role ports.Role
	// RevokeError is why revoking the invitation RevokeID was refused.
	RevokeID    string
	RevokeError string
}

func (p *Pages) invitationsPage(w http.ResponseWriter, r *http.Request) {
	p.invitationsView(w, r, http.StatusOK, view{Notice: settingsNotices[r.URL.Query().Get("done")]}, invitationsData{})
}

func (p *Pages) invitationsView(w http.ResponseWriter, r *http.Request, status int, v view, d invitationsData) {
	if err := p.requireManager(r); err != nil {
		p.fail(w, r, err)
		return
	}
	list, err := p.d.Tenancy.ListInvitations(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Pending, d.Roles = list, settingsRoles
	if d.Role == "" {
		d.Role = ports.RoleViewer
	}
	v.Title, v.Data = "Invitations", d
	p.render(w, r, status, "settingsinvitations", v)
}

// invite creates an invitation (tenancy.Invite, as POST /invitations)
// whose mailed link opens the invitation page, InvitationPath, on the
// shop's configured host.
func (p *Pages) invite(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err == nil {
		err = p.requireManager(r)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	email, role := f.Get("email"), ports.Role(f.Get("role"))
	_, err = p.d.Tenancy.Invite(r.Context(), tenancy.InviteInput{
		Email: email, Role: role, ShopName: shop.Name,
		LinkPrefix: p.d.Shops.TokenLink(shop.Slug, InvitationPath),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		switch {
		case errors.Is(err, ports.ErrConflict):
			fields["email"] = msg
		case errors.Is(err, ports.ErrForbidden):
			fields["role"] = msg
		}
		p.invitationsView(w, r, httpapi.StatusOf(err), view{Form: "invite", Error: msg, FieldErrors: fields, Email: email}, invitationsData{Role: role})
		return
	}
	http.Redirect(w, r, InvitationsPath+"?done=invited", http.StatusSeeOther)
}

func (p *Pages) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err == nil {
		err = p.requireManager(r)
	}
	var id ports.InvitationID
	if err == nil {
		id, err = ports.ParseInvitationID(f.Get("invitation"))
	}
	if err == nil {
		err = p.d.Tenancy.RevokeInvitation(r.Context(), id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, InvitationsPath+"?done=revoked", http.StatusSeeOther)
}

// twoFactorData is the two-factor policy page's data.
type twoFactorData struct {
	Policy ports.TwoFactorPolicy
	// Roles are the roles that may be required, each with whether the
	// policy names it.
	Roles []twoFactorRole
}

type twoFactorRole struct {
	Role     ports.Role
	Required bool
}

func (p *Pages) twoFactorPolicyPage(w http.ResponseWriter, r *http.Request) {
	if err := p.requireManager(r); err != nil {
		p.fail(w, r, err)
		return
	}
	policy, err := p.d.Auth.TwoFactorPolicy(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.twoFactorView(w, r, http.StatusOK, view{Notice: settingsNotices[r.URL.Query().Get("done")]}, policy)
}

func (p *Pages) twoFactorView(w http.ResponseWriter, r *http.Request, status int, v view, policy ports.TwoFactorPolicy) {
	d := twoFactorData{Policy: policy}
	for _, role := range settingsRoles {
		d.Roles = append(d.Roles, twoFactorRole{Role: role, Required: slices.Contains(policy.Roles, role)})
	}
	v.Title, v.Data = "Two-factor policy", d
	p.render(w, r, status, "settingstwofactor", v)
}

// setTwoFactorPolicy saves the posted policy (auth.SetTwoFactorPolicy,
// as PUT /shop/2fa-policy): "scope" all requires every member, "roles"
// the members of the checked "roles", anything else nobody. A caller the
// new policy requires a factor of, and who has none, is sent to the
// enrolment (TOTPPath); otherwise back to the policy page.
func (p *Pages) setTwoFactorPolicy(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err == nil {
		err = p.requireManager(r)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in := ports.TwoFactorPolicy{AllMembers: f.Get("scope") == "all"}
	if f.Get("scope") == "roles" {
		for _, role := range f["roles"] {
			in.Roles = append(in.Roles, ports.Role(role))
		}
	}
	out, err := p.d.Auth.SetTwoFactorPolicy(r.Context(), in, p.client(r))
	if err != nil {
		if !errors.Is(err, ports.ErrInvalid) {
			p.fail(w, r, err)
			return
		}
		msg, fields := formErrors(err, nil)
		if fields["roles"] == "" {
			fields["roles"] = msg
		}
		p.twoFactorView(w, r, httpapi.StatusOf(err), view{Form: "policy", Error: msg, FieldErrors: fields}, in)
		return
	}
	if pr, _ := httpapi.PrincipalFrom(r.Context()); out.Requires(pr.Role) && !pr.HasSecondFactor {
		// The policy now requires the caller's own factor: every other
		// page refuses their session until they enrol one.
		http.Redirect(w, r, TOTPPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, TwoFactorPolicyPath+"?done=policy", http.StatusSeeOther)
}
