package httpapi

// The pages a mailed link opens. They are app/web's pages (served in front
// of the API by every assembly of the server), not API routes: a person
// following the link gets a page that carries the token in a form and
// changes nothing until they submit it. The API's own token routes
// (POST /auth/verify, POST /auth/password-reset/confirm,
// POST /invitations/accept, POST /org/invitations/accept and /decline,
// POST /auth/magic-link/consume) stay for API clients; the GET paths the
// API once mailed (GET /auth/verify, /auth/password-reset,
// /invitations/accept, /org/invitations/accept, /auth/magic-link) answer
// 303 to these pages with the same query, so links mailed before an
// upgrade keep working.
const (
	// VerifyLinkPath is where a sign-up's verification link lands, on the
	// platform's own host (app/web's VerifyPath).
	VerifyLinkPath = "/signup/verify"
	// ResetLinkPath is where a password reset link lands (app/web's
	// ResetPath).
	ResetLinkPath = "/password-reset/new"
	// InvitationLinkPath is where an invitation link lands, on the shop's
	// host (app/web's InvitationPath).
	InvitationLinkPath = "/invitation"
	// SignInLinkPath is where a magic sign-in link lands, on the shop's
	// host (app/web's SignInLinkPath): a page whose "Sign in" button
	// posts the token back to it.
	SignInLinkPath = "/signin/link"
	// OrgInvitationLinkPath is where an org invitation link lands, on
	// the host of the shop it was sent from (app/web's
	// OrgInvitationPath): accepting needs a session there.
	OrgInvitationLinkPath = "/org/invitation"
)
