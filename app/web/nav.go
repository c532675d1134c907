package web

import (
	"net/http"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
)

// Paths of the pages beyond sign-in and account security. Pages live
// under paths the API does not use (CheckRoutes proves it at start).
const (
	// SignUpPath is the sign-up form; the mailbox verification link lands
	// on VerifyPath, the password reset link on ResetPath.
	SignUpPath       = "/signup"
	VerifyPath       = httpapi.VerifyLinkPath
	ResetRequestPath = "/password-reset"
	ResetPath        = httpapi.ResetLinkPath
	InvitationPath   = httpapi.InvitationLinkPath
	// OrgInvitationPath is where a mailed org invitation lands (shop
	// host): accepting it needs the invitee's session on that shop;
	// OrgInvitationDeclinePath declines it, signed in or not.
	OrgInvitationPath        = httpapi.OrgInvitationLinkPath
	OrgInvitationDeclinePath = OrgInvitationPath + "/decline"
	// SignInLinkPath is where a mailed magic sign-in link lands (shop
	// host): the "Sign in" button posts the token back to it, and the
	// page sets the session.
	SignInLinkPath = httpapi.SignInLinkPath
	// MagicLinkConsumePath is the API's route spending a magic link
	// (POST /auth/magic-link/consume, form or JSON), kept for API
	// clients; the pages post to SignInLinkPath instead.
	MagicLinkConsumePath = "/auth/magic-link/consume"
	SettingsPath         = "/settings"
	MembersPath          = "/settings/members"
	InvitationsPath      = "/settings/invitations"
	TwoFactorPolicyPath  = "/settings/two-factor"
	AuditLogPath         = "/settings/audit"
	AccessReviewPath     = "/settings/access-review"
	// ConsolePath is the operator console, on the platform's own host.
	ConsolePath       = "/console"
	ConsoleSignInPath = "/console/signin"
)

// navPaths are the paths templates reach with {{path "name"}}.
var navPaths = map[string]string{
	"signin":         SignInPath,
	"magic-link":     MagicLinkPath,
	"signin-link":    SignInLinkPath,
	"signup":         SignUpPath,
	"verify":         VerifyPath,
	"reset-request":  ResetRequestPath,
	"reset":          ResetPath,
	"invitation":     InvitationPath,
	"org-invitation": OrgInvitationPath,
	"org-decline":    OrgInvitationDeclinePath,
	"security":       SecurityPath,
	"second-factor":  SecondFactorPath,
	"totp":           TOTPPath,
	"settings":       SettingsPath,
	"members":        MembersPath,
	"invitations":    InvitationsPath,
	"two-factor":     TwoFactorPolicyPath,
	"audit":          AuditLogPath,
	"access-review":  AccessReviewPath,
	"console":        ConsolePath,
	"console-signin": ConsoleSignInPath,
	"signout":        "/account/signout",
}

// navItem is one link of the navigation.
type navItem struct {
	Label   string
	Path    string
	Current bool
}

// nav is the navigation for r: empty without a served member session,
// else account security and the pages the member's role may open.
func (p *Pages) nav(r *http.Request) []navItem {
	pr, ok := httpapi.PrincipalFrom(r.Context())
	if !ok || pr.Pending != "" {
		return nil
	}
	allows := func(perm access.Permission) bool { return p.d.Policy != nil && p.d.Policy.Allows(pr.Role, perm) }
	items := []navItem{{Label: "Account security", Path: SecurityPath}}
	if p.d.Tenancy != nil && allows(access.MembersManage) {
		items = append(items, navItem{Label: "Shop settings", Path: SettingsPath})
	}
	if p.d.Audit != nil && allows(access.AuditRead) {
		items = append(items, navItem{Label: "Audit log", Path: AuditLogPath})
	}
	for i := range items {
		items[i].Current = r.URL.Path == items[i].Path
	}
	return items
}
