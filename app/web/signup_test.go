package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// signupPassword is a password the policy accepts.
func signupPassword() string { return rand.Text() + "-Aa1!" }

// signupEmail is a fresh address.
func signupEmail() string { return "su-" + strings.ToLower(rand.Text()[:12]) + "@example.com" }

// signupSlug is a fresh shop address.
func signupSlug() string { return "shop-" + strings.ToLower(rand.Text()[:10]) }

// signupRole reads the role /auth/me reports for cookie on host.
func (s *signupSite) signupRole(t *testing.T, host, cookie string) string {
	t.Helper()
	res := s.doOn(t, host, http.MethodGet, "/auth/me", nil, cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var me struct {
		Role string `json:"role"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&me))
	return me.Role
}

// signupSignIn signs in through the sign-in page on host and returns the
// session cookie.
func (s *signupSite) signupSignIn(t *testing.T, host, email, password string) string {
	t.Helper()
	res := s.doOn(t, host, http.MethodPost, web.SignInPath, url.Values{"email": {email}, "password": {password}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	return signupCookie(t, res)
}

// TestSignUpPagesCreateAccountAndShop: the sign-up form gives one answer
// for a new and a taken address; the mailed link opens the verification
// page on the platform's host, where a taken or reserved shop address
// re-shows the form with the link still valid; a free one creates the
// account and its shop (the account its Owner) and lands on the new
// shop's sign-in page; the link works once.
func TestSignUpPagesCreateAccountAndShop(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	platform := s.platform()
	require.Equal(t, httpapi.VerifyLinkPath, web.VerifyPath)

	t.Run("the form on the platform's and a shop's host", func(t *testing.T) {
		for _, host := range []string{platform, s.host()} {
			res := s.doOn(t, host, http.MethodGet, web.SignUpPath, nil, "")
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
			b := body(t, res)
			for _, id := range []string{"su-name", "su-email", "su-password"} {
				require.Contains(t, b, `<label for="`+id+`">`)
			}
		}
		res := s.doOn(t, "no-such-shop.localhost", http.MethodGet, web.SignUpPath, nil, "")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
	t.Run("refused fields are tied to their inputs", func(t *testing.T) {
		res := s.doOn(t, platform, http.MethodPost, web.SignUpPath, url.Values{"name": {"X"}, "email": {"not an address"}, "password": {signupPassword()}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, `aria-invalid="true" aria-describedby="su-email-error"`)
		require.Contains(t, b, `id="su-email-error"`)
		require.Contains(t, b, `value="X"`, "the name is kept")

		res = s.doOn(t, platform, http.MethodPost, web.SignUpPath, url.Values{"name": {"X"}, "email": {signupEmail()}, "password": {"short"}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, body(t, res), `aria-describedby="su-password-error"`)
	})

	existing, _ := s.member(t, "Existing Member")
	email, password := signupEmail(), signupPassword()
	var answers []string
	for _, addr := range []string{email, existing} {
		res := s.doOn(t, platform, http.MethodPost, web.SignUpPath, url.Values{"name": {"Nora New"}, "email": {addr}, "password": {password}}, "")
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, "Check your mailbox")
		answers = append(answers, b)
	}
	require.Equal(t, answers[0], answers[1], "no account oracle: the same page for a new and a taken address")
	subject, _ := s.signupMail(t, existing, 1)
	require.Equal(t, "You already have an account", subject)

	link, token := s.signupLink(t, email, 1)
	require.Equal(t, platform, link.Host, "the link is on the platform's host")
	require.Equal(t, web.VerifyPath, link.Path)

	t.Run("the verification page is the platform's", func(t *testing.T) {
		res := s.doOn(t, s.host(), http.MethodGet, link.RequestURI(), nil, "")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res = s.doOn(t, platform, http.MethodGet, web.VerifyPath, nil, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "no token")
	})
	res := s.doOn(t, platform, http.MethodGet, link.RequestURI(), nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `<input type="hidden" name="token" value="`+token+`">`)
	require.Contains(t, b, `<label for="shop-name">`)
	require.Contains(t, b, `<label for="shop-slug">`)

	t.Run("cross-site post refused", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, web.VerifyPath),
			strings.NewReader(url.Values{"token": {token}, "shop_name": {"Evil"}, "slug": {signupSlug()}}.Encode()))
		require.NoError(t, err)
		req.Host = platform
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusForbidden, res.StatusCode)
	})
	t.Run("a taken address keeps the link valid", func(t *testing.T) {
		res := s.doOn(t, platform, http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {"Nora's Shop"}, "slug": {s.shop.Slug}}, "")
		require.Equal(t, http.StatusConflict, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, `<p class="st-field-error" id="shop-slug-error">is taken by another shop; choose another</p>`)
		require.Contains(t, b, `aria-invalid="true"`)
		require.Contains(t, b, `value="`+token+`"`, "the form still carries the token")
		require.Contains(t, b, `value="Nora&#39;s Shop"`, "the shop name is kept")
	})
	t.Run("a reserved address keeps the link valid", func(t *testing.T) {
		res := s.doOn(t, platform, http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {"Nora's Shop"}, "slug": {"admin"}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, body(t, res), `id="shop-slug-error"`)
		res = s.doOn(t, platform, http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {""}, "slug": {signupSlug()}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, body(t, res), `id="shop-name-error"`)
	})

	slug := signupSlug()
	res = s.doOn(t, platform, http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {"Nora's Shop"}, "slug": {slug}}, "")
	require.Equal(t, http.StatusCreated, res.StatusCode)
	shopHost := fmt.Sprintf("%s.localhost:%d", slug, s.port)
	b = body(t, res)
	require.Contains(t, b, `<a class="st-button st-signin-link" href="http://`+shopHost+web.SignInPath+`?done=account-ready">Sign in to Nora&#39;s Shop</a>`,
		"the page links to the new shop's sign-in (a cross-origin redirect after a form post would break the CSP's form-action)")

	res = s.doOn(t, platform, http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {"Again"}, "slug": {signupSlug()}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the link works once")
	require.Contains(t, body(t, res), "invalid, used or expired")

	res = s.doOn(t, shopHost, http.MethodGet, web.SignInPath+"?done=account-ready", nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, "Your account is ready, sign in.")
	require.Contains(t, b, "<title>Sign in · Nora&#39;s Shop</title>")
	cookie := s.signupSignIn(t, shopHost, email, password)
	require.Equal(t, "owner", s.signupRole(t, shopHost, cookie), "the new account owns the new shop")
	res = s.doOn(t, s.host(), http.MethodPost, web.SignInPath, url.Values{"email": {email}, "password": {password}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "and is no member of another shop")
}

// TestSignUpAccountOnly: with SignUpAccountOnly the verification page asks
// for no shop; confirming creates the account only.
func TestSignUpAccountOnly(t *testing.T) {
	s := signupNewSite(t, web.Options{SignUp: web.SignUpAccountOnly})
	email, password := signupEmail(), signupPassword()
	res := s.doOn(t, s.platform(), http.MethodPost, web.SignUpPath, url.Values{"name": {"Ada"}, "email": {email}, "password": {password}}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	link, token := s.signupLink(t, email, 1)
	res = s.doOn(t, s.platform(), http.MethodGet, link.RequestURI(), nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, body(t, res), `name="shop_name"`)

	res = s.doOn(t, s.platform(), http.MethodPost, web.VerifyPath, url.Values{"token": {token}, "shop_name": {"Ignored"}, "slug": {signupSlug()}}, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), "Your account is ready")
	u, err := s.e.Auth.UserByEmail(t.Context(), email)
	require.NoError(t, err)
	require.False(t, u.VerifiedAt.IsZero())
	err = s.e.Store.Global(t.Context(), func(ctx context.Context, tx ports.GlobalTx) error {
		shops, err := tx.Users().Shops(ctx, u.ID)
		require.Empty(t, shops, "no shop was created")
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	res = s.doOn(t, s.platform(), http.MethodPost, web.VerifyPath, url.Values{"token": {token}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the link works once")
}

// TestPasswordResetPages: one answer for every address; the link opens
// the reset page on the shop's host it was asked on; a refused password
// keeps the link valid; the reset ends every session, lands on sign-in
// with a notice, and the link works once. The API's link lands on the
// page on the platform's host.
func TestPasswordResetPages(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	require.Equal(t, httpapi.ResetLinkPath, web.ResetPath)
	email, oldPassword := s.member(t, "Forgetful")
	oldCookie := s.apiSignIn(t, email, oldPassword)

	var answers []string
	for _, addr := range []string{email, signupEmail()} {
		res := s.doOn(t, s.host(), http.MethodPost, web.ResetRequestPath, url.Values{"email": {addr}}, "")
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		answers = append(answers, body(t, res))
	}
	require.Equal(t, answers[0], answers[1], "no account oracle")
	res := s.doOn(t, s.host(), http.MethodPost, web.ResetRequestPath, url.Values{"email": {"nope"}}, "")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-describedby="rr-email-error"`)
	res = s.doOn(t, s.host(), http.MethodGet, web.ResetRequestPath, nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `<label for="rr-email">`)

	link, token := s.signupLink(t, email, 1)
	require.Equal(t, s.host(), link.Host, "asked on the shop's host, the link is on it")
	require.Equal(t, web.ResetPath, link.Path)
	res = s.doOn(t, s.host(), http.MethodGet, link.RequestURI(), nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `<input type="hidden" name="token" value="`+token+`">`)

	res = s.doOn(t, s.host(), http.MethodPost, web.ResetPath, url.Values{"token": {token}, "new_password": {"short"}}, "")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="reset-password-error"`)
	require.Contains(t, b, `value="`+token+`"`)

	newPassword := signupPassword()
	res = s.doOn(t, s.host(), http.MethodPost, web.ResetPath, url.Values{"token": {token}, "new_password": {newPassword}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SignInPath+"?done=password-reset", res.Header.Get("Location"))
	require.Equal(t, http.StatusUnauthorized, s.doOn(t, s.host(), http.MethodGet, "/auth/me", nil, oldCookie).StatusCode, "every session ended")
	res = s.doOn(t, s.host(), http.MethodGet, web.SignInPath+"?done=password-reset", nil, "")
	require.Contains(t, body(t, res), "Your password is set")
	s.signupSignIn(t, s.host(), email, newPassword)

	res = s.doOn(t, s.host(), http.MethodPost, web.ResetPath, url.Values{"token": {token}, "new_password": {signupPassword()}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the link works once")
	require.Contains(t, body(t, res), "invalid, used or expired")

	t.Run("the API's link opens the page on the platform's host", func(t *testing.T) {
		js, _ := json.Marshal(map[string]string{"email": email})
		res := s.do(t, http.MethodPost, "/auth/password-reset", "application/json", string(js), "", nil)
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		link, token := s.signupLink(t, email, 2)
		require.Equal(t, s.platform(), link.Host)
		require.Equal(t, web.ResetPath, link.Path)
		require.Equal(t, http.StatusOK, s.doOn(t, s.platform(), http.MethodGet, link.RequestURI(), nil, "").StatusCode)
		last := signupPassword()
		res = s.doOn(t, s.platform(), http.MethodPost, web.ResetPath, url.Values{"token": {token}, "new_password": {last}}, "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body(t, res), "Your password is set")
		s.signupSignIn(t, s.host(), email, last)
	})
}

// signupOwner makes a new Owner of the site's shop and returns their
// session cookie.
func (s *signupSite) signupOwner(t *testing.T) string {
	t.Helper()
	email, password := signupEmail(), signupPassword()
	u, err := s.e.Auth.CreateUser(t.Context(), email, "Olive Owner", password)
	require.NoError(t, err)
	require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, ports.RoleOwner)
		return err
	}))
	return s.apiSignIn(t, email, password)
}

// signupInvite invites email to the site's shop as role through the API.
func (s *signupSite) signupInvite(t *testing.T, owner, email, role string) {
	t.Helper()
	js, _ := json.Marshal(map[string]string{"email": email, "role": role})
	res := s.do(t, http.MethodPost, "/invitations", "application/json", string(js), owner, nil)
	require.Equal(t, http.StatusCreated, res.StatusCode, body(t, res))
}

// TestInvitationPages: the mailed invitation opens the page on the shop's
// host, which shows the shop, the role and the address; another shop's
// host does not know the token; a new person must choose a password (the
// link stays valid), then is a member, signed in, on account security;
// the link works once; an existing account accepts with the token alone.
func TestInvitationPages(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	require.Equal(t, httpapi.InvitationLinkPath, web.InvitationPath)
	owner := s.signupOwner(t)
	other := stockadetest.NewShop(t, s.e.Store)
	otherHost := fmt.Sprintf("%s.localhost:%d", other.Slug, s.port)

	email := signupEmail()
	s.signupInvite(t, owner, email, "tech")
	link, token := s.signupLink(t, email, 1)
	require.Equal(t, s.host(), link.Host)
	require.Equal(t, web.InvitationPath, link.Path)

	res := s.doOn(t, s.host(), http.MethodGet, link.RequestURI(), nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `<strong class="st-role">tech</strong>`)
	require.Contains(t, b, email)
	require.Contains(t, b, `<label for="inv-password">`)
	require.Contains(t, b, `<input type="hidden" name="token" value="`+token+`">`)

	t.Run("another shop's host does not know the token", func(t *testing.T) {
		res := s.doOn(t, otherHost, http.MethodGet, link.RequestURI(), nil, "")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res = s.doOn(t, otherHost, http.MethodPost, web.InvitationPath, url.Values{"token": {token}, "name": {"X"}, "password": {signupPassword()}}, "")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		require.Empty(t, res.Cookies())
	})
	t.Run("no password keeps the link valid", func(t *testing.T) {
		res := s.doOn(t, s.host(), http.MethodPost, web.InvitationPath, url.Values{"token": {token}, "name": {"Joe"}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, `aria-invalid="true" aria-describedby="inv-password-error"`)
		require.Contains(t, b, `value="Joe"`)
		res = s.doOn(t, s.host(), http.MethodPost, web.InvitationPath, url.Values{"token": {token}, "name": {"Joe"}, "password": {"short"}}, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, body(t, res), `id="inv-password-error"`)
	})

	password := signupPassword()
	res = s.doOn(t, s.host(), http.MethodPost, web.InvitationPath, url.Values{"token": {token}, "name": {"Joe Tech"}, "password": {password}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	cookie := signupCookie(t, res)
	require.Equal(t, "tech", s.signupRole(t, s.host(), cookie))
	res = s.doOn(t, s.host(), http.MethodGet, web.SecurityPath, nil, cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), "Joe Tech")
	s.signupSignIn(t, s.host(), email, password)

	res = s.doOn(t, s.host(), http.MethodPost, web.InvitationPath, url.Values{"token": {token}, "name": {"Joe"}, "password": {signupPassword()}}, "")
	require.Equal(t, http.StatusNotFound, res.StatusCode, "the link works once")
	require.Contains(t, body(t, res), "invalid, used, revoked or expired")
	require.Equal(t, http.StatusNotFound, s.doOn(t, s.host(), http.MethodGet, link.RequestURI(), nil, "").StatusCode)

	t.Run("an existing account accepts with the link", func(t *testing.T) {
		existing, existingPassword := s.member(t, "Already Here")
		u, err := s.e.Auth.UserByEmail(t.Context(), existing)
		require.NoError(t, err)
		require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Memberships().Remove(ctx, u.ID)
		}))
		s.signupInvite(t, owner, existing, "sales")
		link, _ := s.signupLink(t, existing, 1)
		res := s.doOn(t, s.host(), http.MethodGet, link.RequestURI(), nil, "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		b := body(t, res)
		require.Contains(t, b, "You already have an account")
		require.NotContains(t, b, `name="password"`)
		res = s.doOn(t, s.host(), http.MethodPost, web.InvitationPath, url.Values{"token": {link.Query().Get("token")}}, "")
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
		require.Equal(t, "sales", s.signupRole(t, s.host(), signupCookie(t, res)))
		s.signupSignIn(t, s.host(), existing, existingPassword)
	})
}

// TestBrowserSignUpCreatesShop: in Chromium, sign up on the platform's
// host, open the mailed link, create the shop, follow the link to the new
// shop's host, sign in there and land on account security; the sign-up
// and verification pages fit 320 px and label every input.
func TestBrowserSignUpCreatesShop(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	email, password, slug := signupEmail(), signupPassword(), signupSlug()

	const unlabelled = `[...document.querySelectorAll("input:not([type=hidden])")].filter(i => !i.labels || i.labels.length === 0).length`
	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate("http://"+s.platform()+web.SignUpPath),
		chromedp.WaitVisible(chromedp.CSS("#su-email")),
	))
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the sign-up page fits 320 px")
	require.Zero(t, eval[int](t, ctx, unlabelled))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#su-name"), "Brenda Browser"),
		chromedp.SendKeys(chromedp.CSS("#su-email"), email),
		chromedp.SendKeys(chromedp.CSS("#su-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Contains(t, text(t, ctx, ".st-notice"), "Check your mailbox")

	link, _ := s.signupLink(t, email, 1)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(link.String()),
		chromedp.WaitVisible(chromedp.CSS("#shop-name")),
	))
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the verification page fits 320 px")
	require.Zero(t, eval[int](t, ctx, unlabelled))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#shop-name"), "Brenda's Bikes"),
		chromedp.SendKeys(chromedp.CSS("#shop-slug"), slug),
		chromedp.Click(chromedp.CSS(`form[action="/signup/verify"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("a.st-signin-link")),
		chromedp.Click(chromedp.CSS("a.st-signin-link")),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	shopHost := fmt.Sprintf("%s.localhost:%d", slug, s.port)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, "http://"+shopHost+web.SignInPath+"?done=account-ready", loc)
	require.Equal(t, "Your account is ready, sign in.", text(t, ctx, ".st-notice"))
	require.Equal(t, "Brenda's Bikes", text(t, ctx, ".st-brand"))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, "http://"+shopHost+web.SecurityPath, loc)
	require.Equal(t, "Brenda Browser", text(t, ctx, ".st-user-name"))
}
