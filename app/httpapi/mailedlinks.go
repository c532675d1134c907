package httpapi

// The pages a mailed link opens. They are app/web's pages (served in front
// of the API by every assembly of the server), not API routes: a person
// following the link gets a page that carries the token in a form and
// changes nothing until they submit it. The API's own token routes
// (POST /auth/verify, POST /auth/password-reset/confirm,
// POST /invitations/accept and their GET forms, POST
// /auth/magic-link/consume) stay for API clients.
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
	// posts the token to POST /auth/magic-link/consume. The API's older
	// GET /auth/magic-link?token=… answers 303 to it, so links mailed
	// before an upgrade keep working.
	SignInLinkPath = "/signin/link"
)
