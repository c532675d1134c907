package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

// accountPasskeySite is a site with the public URL on the server's own
// port: a passkey's relying party is the shop's host under the public
// URL, and the browser's origin must be it.
func accountPasskeySite(t *testing.T) *site {
	t.Helper()
	return startSite(t, siteOptions{OwnPort: true})
}

// accountAuthenticator gives the tab a virtual platform authenticator:
// CTAP2, internal transport, resident keys, user verification that
// succeeds, presence simulated.
func accountAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	})))
}

// TestBrowserAccountPasskeyRegisterAndSignIn: a member signed in with the
// password adds a passkey on account security (the script shows the
// button), signs out, and signs in again with the passkey alone: the
// session is a passkey sign-in at AAL2.
func TestBrowserAccountPasskeyRegisterAndSignIn(t *testing.T) {
	s := accountPasskeySite(t)
	email, password := s.member(t, "Pat Passkey")

	ctx := browser(t)
	accountAuthenticator(t, ctx)
	require.NoError(t, chromedp.Do(ctx, s.signInThroughPage(email, password),
		chromedp.WaitVisible(chromedp.CSS("#passkey-add")),
		chromedp.SetValue(chromedp.CSS("#passkey-new-name"), "Virtual key"),
		chromedp.Click(chromedp.CSS("#passkey-add")),
		chromedp.WaitVisible(chromedp.CSS(".st-passkey-name")),
	))
	require.Equal(t, "Your passkey has been added.", text(t, ctx, ".st-notice"))
	require.Equal(t, "Virtual key", text(t, ctx, ".st-passkey-name"))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.st-signout button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SignInPath), loc)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecurityPath), loc, "the passkey sign-in lands on account security")
	require.Equal(t, "Pat Passkey", text(t, ctx, ".st-user-name"))
	require.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("li.st-session").length`), "the password session ended at sign-out")

	me, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch("/auth/me", {credentials: "same-origin"}).then(r => r.json())`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	sess, ok := me["session"].(map[string]any)
	if !ok {
		sess = me
	}
	require.EqualValues(t, 2, sess["aal"], "a user-verified passkey is AAL2")

	// The passkey is now a second factor: a password sign-in lands on the
	// challenge, where the passkey steps the session up.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.st-signout button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-stepup")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecondFactorPath), loc)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#passkey-stepup")),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	require.Equal(t, "Pat Passkey", text(t, ctx, ".st-user-name"), "stepped up with the passkey, served account security")
}
