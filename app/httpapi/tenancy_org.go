package httpapi

import (
	"mime"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// The org-role routes: an org role is offered by invitation and exists
// only once the invitee accepts it (TEN-6 with consent).

type orgInvitationJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func orgInvitationOf(i ports.OrgInvitation) orgInvitationJSON {
	return orgInvitationJSON{ID: i.ID.String(), Email: i.Email, Role: string(i.Role), CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

// setOrgRole is PUT /org/members {email, role}. Role "" removes an org
// member's role (204; 404 for anyone else, alike with or without an
// account). Otherwise an org member's role changes at once (204), and
// any other address is sent an invitation (202 with the invitation): the
// answer never says whether the address has an account.
// setOrgRoleRequest is the body of PUT /org/members.
type setOrgRoleRequest struct {
	Email string        `json:"email"`
	Role  ports.OrgRole `json:"role"`
}

func (h *tenancyHandlers) setOrgRole(w http.ResponseWriter, r *http.Request) {
	var in setOrgRoleRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	if in.Role == "" {
		if err := h.svc.SetOrgRole(r.Context(), in.Email, ""); err != nil {
			WriteProblem(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	shop, _ := ShopFrom(r.Context())
	inv, err := h.svc.OfferOrgRole(r.Context(), tenancy.OrgRoleInput{
		Email: in.Email, Role: in.Role,
		LinkPrefix: h.shops.TokenLink(shop.Slug, OrgInvitationLinkPath),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if inv.ID.IsZero() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, orgInvitationOf(inv))
}

func (h *tenancyHandlers) listOrgInvitations(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListOrgInvitations(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]orgInvitationJSON, len(list))
	for i, inv := range list {
		out[i] = orgInvitationOf(inv)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"invitations": out})
}

func (h *tenancyHandlers) revokeOrgInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseInvitationID(r.PathValue("invitation"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.RevokeOrgInvitation(r.Context(), id); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// orgAcceptPage answers GET /org/invitations/accept?token=…, the link
// org invitations mailed before OrgInvitationLinkPath: 303 to that page
// (on the same shop's host), with the same query.
func (h *tenancyHandlers) orgAcceptPage(w http.ResponseWriter, r *http.Request) {
	toLinkPage(w, r, OrgInvitationLinkPath)
}

// tokenOf reads {token} from a JSON body or a form post.
func tokenOf(w http.ResponseWriter, r *http.Request) (token string, form bool, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			return "", true, ports.Invalid("body", "is not a form")
		}
		return r.PostForm.Get("token"), true, nil
	}
	var in tokenRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return "", false, err
	}
	return in.Token, false, nil
}

func (h *tenancyHandlers) acceptOrgInvitation(w http.ResponseWriter, r *http.Request) {
	token, form, err := tokenOf(w, r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	m, err := h.svc.AcceptOrgInvitation(r.Context(), token)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"org_id": m.OrgID.String(), "role": string(m.Role)})
}

func (h *tenancyHandlers) declineOrgInvitation(w http.ResponseWriter, r *http.Request) {
	token, form, err := tokenOf(w, r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	if err := h.svc.DeclineOrgInvitation(r.Context(), shop.ID, token, clientOf(r, h.trustXFF)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
