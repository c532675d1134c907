package web_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// TestOrgInvitationPage: an org invitation's mailed link opens
// web.OrgInvitationPath on the shop's host, a page in the layout. Signed
// out it says to sign in and open the link again, and offers "Decline"
// but no "Accept"; a post to accept without a session is the HTML error
// page (401), changing nothing. Signed in, the page names the account
// and accepting gives the org role, said on the page; the token is then
// spent (the HTML error page, 404, on post and on opening the link). The
// page names the org, the role and the invited address. Declining needs no session. The API's
// old GET /org/invitations/accept?token= answers 303 to the page.
func TestOrgInvitationPage(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	host := s.host()
	offer := func(email string) (*url.URL, string) {
		t.Helper()
		ctx := access.System(t.Context(), s.shop.ID, s.shop.Org, "test")
		_, err := s.e.Tenancy.OfferOrgRole(ctx, tenancy.OrgRoleInput{Email: email, Role: ports.OrgAdmin,
			LinkPrefix: fmt.Sprintf("http://%s%s?token=", host, httpapi.OrgInvitationLinkPath)})
		require.NoError(t, err)
		link, token := s.signupLink(t, email, 1)
		require.Equal(t, web.OrgInvitationPath, link.Path)
		return link, token
	}
	email, password := s.member(t, "Grace Hopper")
	link, token := offer(email)

	res := s.doOn(t, host, http.MethodGet, "/org/invitations/accept?"+link.RawQuery, nil, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "a link mailed before the page")
	require.Equal(t, link.RequestURI(), res.Header.Get("Location"))

	res = s.doOn(t, host, http.MethodGet, link.RequestURI(), nil, "")
	page := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	var org ports.Org
	require.NoError(t, s.e.Store.Global(t.Context(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		org, err = tx.Orgs().Get(ctx, s.shop.Org)
		return err
	}, ports.ReadOnly()))
	require.Contains(t, page, `<span class="st-user-email">`+email+`</span> is invited to be <strong class="st-org-role">admin</strong> of the organisation <strong class="st-org-name">`+template.HTMLEscapeString(org.Name)+`</strong>`)
	require.Contains(t, page, "sign in to this shop with the address the invitation was sent to, then open the link from the e-mail again")
	require.Contains(t, page, `<a href="`+web.SignInPath+`">Sign in</a>`)
	require.Contains(t, page, `action="`+web.OrgInvitationDeclinePath+`"`)
	require.NotContains(t, page, `action="`+web.OrgInvitationPath+`"`, "no Accept button without a session")

	res = s.doOn(t, host, http.MethodPost, web.OrgInvitationPath, url.Values{"token": {token}}, "")
	page = body(t, res)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, page)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	require.Contains(t, page, `href="`+web.SignInPath+`"`)

	cookie := s.apiSignIn(t, email, password)
	res = s.doOn(t, host, http.MethodGet, link.RequestURI(), nil, cookie)
	page = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, page, "You are signed in as <span class=\"st-user-email\">"+email+"</span>")
	require.Regexp(t, regexp.MustCompile(`<form method="post" action="`+web.OrgInvitationPath+`"[^>]*>\s*<input type="hidden" name="token" value="`+regexp.QuoteMeta(token)+`">`), page)

	res = s.doOn(t, host, http.MethodPost, web.OrgInvitationPath, url.Values{"token": {token}}, cookie)
	page = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, page, "You accepted the invitation: you are now the organisation&#39;s admin.")

	res = s.doOn(t, host, http.MethodPost, web.OrgInvitationPath, url.Values{"token": {token}}, cookie)
	page = body(t, res)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "single use: "+page)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")

	res = s.doOn(t, host, http.MethodGet, link.RequestURI(), nil, "")
	page = body(t, res)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "a spent invitation's page: "+page)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	require.NotContains(t, page, `action="`+web.OrgInvitationDeclinePath+`"`)

	other, _ := s.member(t, "Alan Turing")
	_, token = offer(other)
	res = s.doOn(t, host, http.MethodPost, web.OrgInvitationDeclinePath, url.Values{"token": {token}}, "")
	page = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, page, "You declined the invitation.")
}
