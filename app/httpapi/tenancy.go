package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// TenancyDeps is what the tenancy routes need. They run on a shop's host
// with the authentication routes' session and CSRF protection, so
// Deps.Auth must be set too.
type TenancyDeps struct {
	Service *tenancy.Service
	// AfterAccept is where a browser lands after accepting an invitation
	// with a form post: a path on the shop's host or an absolute URL;
	// empty means "/".
	AfterAccept string
}

// tenancyRoutes registers the tenancy API (TEN-5, TEN-6, TEN-9); the
// permission each needs is the README's "Roles and permissions" table:
//
//	GET    /shop                           shop.read        the shop
//	PATCH  /shop                           shop.settings    {name}
//	GET    /members                        members.read     the members
//	PATCH  /members/{user}                 members.manage   {role} (owner changes: members.owners)
//	DELETE /members/{user}                 members.manage   remove (or leave: yourself)
//	POST   /invitations                    invites.manage   {email, role} → 201, mails the link
//	GET    /invitations                    invites.manage   pending invitations
//	DELETE /invitations/{invitation}       invites.manage   revoke
//	GET    /jobs?state=&limit=             jobs.read        the shop's background jobs
//	POST   /jobs/{job}/retry               jobs.retry       a dead job back in the queue
//	GET    /invitations/accept?token=…     public           303 to InvitationLinkPath (links mailed before it)
//	POST   /invitations/accept             public           {token, name?, password?} → session cookie
//	POST   /orgs                           account.self     {name, slug, shop_name?} → 201, you own it
//	GET    /org/shops                      org owner/admin  the org's shops
//	POST   /org/shops                      org owner/admin  {slug, name} → 201, you own it
//	POST   /org/shops/{shop_slug}/suspend  org owner/admin
//	POST   /org/shops/{shop_slug}/reactivate
//	GET    /org/members                    org owner/admin
//	PUT    /org/members                    org owner        {email, role}: 204 changed, 202 invited ("" removes)
//	GET    /org/invitations                org owner        pending org invitations
//	DELETE /org/invitations/{invitation}   org owner        revoke
//	GET    /org/invitations/accept?token=… public           303 to OrgInvitationLinkPath (links mailed before it)
//	POST   /org/invitations/accept         account.self     {token}: the invitee takes the org role
//	POST   /org/invitations/decline        public           {token}: the invitee declines
//
// Every session route marked HQ below is also served at
// /hq/shops/{hq_shop}/… (see enterHQ).
func tenancyRoutes(rt *router, a AuthDeps, d TenancyDeps) {
	h := &tenancyHandlers{svc: d.Service, shops: a.Shops, trustXFF: a.TrustForwardedFor, afterAccept: landing(d.AfterAccept)}
	rt.member("GET", "/shop", access.ShopRead, true, h.getShop)
	rt.member("PATCH", "/shop", access.ShopSettings, true, h.renameShop).json(renameShopRequest{})
	rt.member("GET", "/members", access.MembersRead, true, h.listMembers)
	rt.member("PATCH", "/members/{user}", access.MembersManage, true, h.changeRole).json(changeRoleRequest{})
	rt.member("DELETE", "/members/{user}", access.MembersManage, true, h.removeMember)
	rt.member("POST", "/invitations", access.InvitesManage, true, h.invite).json(inviteRequest{})
	rt.member("GET", "/invitations", access.InvitesManage, true, h.listInvitations)
	rt.member("DELETE", "/invitations/{invitation}", access.InvitesManage, true, h.revokeInvitation)
	rt.member("GET", "/jobs", access.JobsRead, true, h.listJobs)
	rt.member("POST", "/jobs/{job}/retry", access.JobsRetry, true, h.retryJob)
	rt.public("GET", "/invitations/accept", h.acceptPage)
	rt.public("POST", "/invitations/accept", h.accept).json(acceptRequest{}).form()
	rt.member("POST", "/orgs", access.AccountSelf, false, h.createOrg).json(createOrgRequest{})
	rt.org("GET", "/org/shops", access.OrgHQAccess, h.orgShops)
	rt.org("POST", "/org/shops", access.OrgShopsManage, h.addShop).json(addShopRequest{})
	rt.org("POST", "/org/shops/{shop_slug}/suspend", access.OrgShopsManage, h.setStatus(ports.ShopSuspended))
	rt.org("POST", "/org/shops/{shop_slug}/reactivate", access.OrgShopsManage, h.setStatus(ports.ShopActive))
	rt.org("GET", "/org/members", access.OrgHQAccess, h.orgMembers)
	rt.org("PUT", "/org/members", access.OrgMembersManage, h.setOrgRole).json(setOrgRoleRequest{})
	rt.org("GET", "/org/invitations", access.OrgMembersManage, h.listOrgInvitations)
	rt.org("DELETE", "/org/invitations/{invitation}", access.OrgMembersManage, h.revokeOrgInvitation)
	rt.public("GET", "/org/invitations/accept", h.orgAcceptPage)
	rt.member("POST", "/org/invitations/accept", access.AccountSelf, false, h.acceptOrgInvitation).json(tokenRequest{}).form()
	rt.public("POST", "/org/invitations/decline", h.declineOrgInvitation).json(tokenRequest{}).form()
}

// enterHQ is the HQ middleware: it trades the caller's scope on their own
// shop for an HQ scope in the shop named by {hq_shop}, through
// tenancy.Service.EnterHQ (which audits the access in that shop's log
// before the route runs, and its outcome after), and makes that shop the
// request's shop for next.
func enterHQ(svc *tenancy.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served := false
			err := svc.EnterHQ(r.Context(), r.PathValue("hq_shop"), r.Method+" "+r.URL.Path, func(ctx context.Context, shop ports.Shop) error {
				served = true
				return serveCounted(next, w, r.WithContext(context.WithValue(ctx, shopKey{}, shop)))
			})
			auditedAnswer(w, r, served, err)
		})
	}
}

type tenancyHandlers struct {
	svc      *tenancy.Service
	shops    *HostShops
	trustXFF bool
	// afterAccept is where an accepted invitation's form post redirects.
	afterAccept string
}

type shopJSON struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func shopOf(s ports.Shop) shopJSON {
	return shopJSON{ID: s.ID.String(), OrgID: s.OrgID.String(), Slug: s.Slug, Name: s.Name, Status: string(s.Status), CreatedAt: s.CreatedAt}
}

type memberJSON struct {
	UserID   string    `json:"user_id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

type invitationJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func invitationOf(i ports.Invitation) invitationJSON {
	return invitationJSON{ID: i.ID.String(), Email: i.Email, Role: string(i.Role), CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

func (h *tenancyHandlers) getShop(w http.ResponseWriter, r *http.Request) {
	shop, err := h.svc.Shop(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, shopOf(shop))
}

// renameShopRequest is the body of PATCH /shop.
type renameShopRequest struct {
	Name string `json:"name"`
}

func (h *tenancyHandlers) renameShop(w http.ResponseWriter, r *http.Request) {
	var in renameShopRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, err := h.svc.Rename(r.Context(), in.Name)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	h.shops.Forget(shop.Slug)
	writeJSON(w, "application/json", http.StatusOK, shopOf(shop))
}

func (h *tenancyHandlers) listMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.ListMembers(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]memberJSON, len(ms))
	for i, m := range ms {
		out[i] = memberJSON{UserID: m.UserID.String(), Email: m.Email, Name: m.Name, Role: string(m.Role), JoinedAt: m.CreatedAt}
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"members": out})
}

// changeRoleRequest is the body of PATCH /members/{user}.
type changeRoleRequest struct {
	Role ports.Role `json:"role"`
}

func (h *tenancyHandlers) changeRole(w http.ResponseWriter, r *http.Request) {
	user, err := ports.ParseUserID(r.PathValue("user"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var in changeRoleRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	m, err := h.svc.ChangeRole(r.Context(), user, in.Role)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"user_id": m.UserID.String(), "role": string(m.Role)})
}

func (h *tenancyHandlers) removeMember(w http.ResponseWriter, r *http.Request) {
	user, err := ports.ParseUserID(r.PathValue("user"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.RemoveMember(r.Context(), user); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// inviteRequest is the body of POST /invitations.
type inviteRequest struct {
	Email string     `json:"email"`
	Role  ports.Role `json:"role"`
}

func (h *tenancyHandlers) invite(w http.ResponseWriter, r *http.Request) {
	var in inviteRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	inv, err := h.svc.Invite(r.Context(), tenancy.InviteInput{
		Email: in.Email, Role: in.Role, ShopName: shop.Name,
		LinkPrefix: h.shops.TokenLink(shop.Slug, InvitationLinkPath),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, invitationOf(inv))
}

func (h *tenancyHandlers) listInvitations(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListInvitations(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]invitationJSON, len(list))
	for i, inv := range list {
		out[i] = invitationOf(inv)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"invitations": out})
}

func (h *tenancyHandlers) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseInvitationID(r.PathValue("invitation"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.RevokeInvitation(r.Context(), id); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// acceptPage answers GET /invitations/accept?token=…, the link
// invitations mailed before InvitationLinkPath: 303 to that page (on the
// same shop's host), with the same query.
func (h *tenancyHandlers) acceptPage(w http.ResponseWriter, r *http.Request) {
	toLinkPage(w, r, InvitationLinkPath)
}

// acceptRequest is the body of POST /invitations/accept: the mailed
// token, and the name and password of an invitee who has no account yet.
type acceptRequest struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (h *tenancyHandlers) accept(w http.ResponseWriter, r *http.Request) {
	var in acceptRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := mt == "application/x-www-form-urlencoded"
	if form {
		r.Body = http.MaxBytesReader(w, r.Body, 8192)
		if err := r.ParseForm(); err != nil {
			WriteProblem(w, r, ports.Invalid("body", "is not a form"))
			return
		}
		in.Token, in.Name, in.Password = r.PostForm.Get("token"), r.PostForm.Get("name"), r.PostForm.Get("password")
	} else if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	is, err := h.svc.AcceptInvitation(r.Context(), tenancy.AcceptInput{
		Shop: shop.ID, Token: in.Token, Name: in.Name, Password: in.Password,
		Client: clientOf(r, h.trustXFF), Replace: presented(r),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	if form {
		http.Redirect(w, r, h.afterAccept, http.StatusSeeOther)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

// createOrgRequest is the body of POST /orgs.
type createOrgRequest struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	ShopName string `json:"shop_name"`
}

func (h *tenancyHandlers) createOrg(w http.ResponseWriter, r *http.Request) {
	var in createOrgRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	org, shop, err := h.svc.CreateOrg(r.Context(), tenancy.NewOrg{Name: in.Name, Slug: in.Slug, ShopName: in.ShopName})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, map[string]any{
		"org_id": org.ID.String(), "shop": shopOf(shop), "sign_in_url": h.shops.URL(shop.Slug, "/auth/signin"),
	})
}

func (h *tenancyHandlers) orgShops(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.OrgShops(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]shopJSON, len(list))
	for i, s := range list {
		out[i] = shopOf(s)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"shops": out})
}

// addShopRequest is the body of POST /org/shops.
type addShopRequest struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (h *tenancyHandlers) addShop(w http.ResponseWriter, r *http.Request) {
	var in addShopRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, err := h.svc.AddShop(r.Context(), tenancy.NewShop{Slug: in.Slug, Name: in.Name})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, shopOf(shop))
}

func (h *tenancyHandlers) setStatus(status ports.ShopStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		shop, err := h.svc.SetShopStatus(r.Context(), r.PathValue("shop_slug"), status)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		h.shops.Forget(shop.Slug)
		writeJSON(w, "application/json", http.StatusOK, shopOf(shop))
	}
}

func (h *tenancyHandlers) orgMembers(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListOrgMembers(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	type orgMemberJSON struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Name   string `json:"name"`
		Role   string `json:"role"`
	}
	out := make([]orgMemberJSON, len(list))
	for i, m := range list {
		out[i] = orgMemberJSON{UserID: m.UserID.String(), Email: m.Email, Name: m.Name, Role: string(m.Role)}
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"members": out})
}

type jobJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	RunAt     time.Time `json:"run_at"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func jobOf(j ports.Job) jobJSON {
	return jobJSON{ID: j.ID.String(), Kind: j.Kind, State: string(j.State), Attempts: j.Attempts, RunAt: j.RunAt, LastError: j.LastError, CreatedAt: j.CreatedAt}
}

func (h *tenancyHandlers) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteProblem(w, r, ports.Invalid("limit", "must be 1 to 1000"))
			return
		}
		limit = n
	}
	list, err := h.svc.ListJobs(r.Context(), ports.JobState(q.Get("state")), limit)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]jobJSON, len(list))
	for i, j := range list {
		out[i] = jobOf(j)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"jobs": out})
}

func (h *tenancyHandlers) retryJob(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseJobID(r.PathValue("job"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	j, err := h.svc.RetryJob(r.Context(), id)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, jobOf(j))
}
