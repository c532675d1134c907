package web_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// a11yPassword is the password of every member of a11yCrew: the crew's
// addresses are fixed so that the screenshots do not change from one run
// to the next, and a visitor made twice signs the same person in again.
const a11yPassword = "Correct-Horse-Battery-22!"

// a11yCrewMember is one person of the shop the browser pages show.
type a11yCrewMember struct {
	name, email string
	role        ports.Role
}

// a11yCrew is the shop's cast, with fixed names and addresses: the
// members page, the audit log and the console show them.
var a11yCrew = []a11yCrewMember{
	{"Olive Owner", "olive@acme-bikes.example", ports.RoleOwner},
	{"Adam Admin", "adam@acme-bikes.example", ports.RoleAdmin},
	{"Grace Hopper", "grace@acme-bikes.example", ports.RoleTech},
	{"Sam Sales", "sam@acme-bikes.example", ports.RoleSales},
	{"Vera Viewer", "vera@acme-bikes.example", ports.RoleViewer},
}

// a11yCrewSeed makes sure s's shop has every member of a11yCrew and
// returns the one with role.
func a11yCrewSeed(t *testing.T, s *site, role ports.Role) a11yCrewMember {
	t.Helper()
	var who *a11yCrewMember
	for i, m := range a11yCrew {
		if m.role == role {
			who = &a11yCrew[i]
		}
		u, err := s.e.Auth.CreateUser(t.Context(), m.email, m.name, a11yPassword)
		if errors.Is(err, ports.ErrConflict) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, u.ID, m.role)
			return err
		}))
	}
	require.NotNil(t, who, "no crew member is %s", role)
	return *who
}

// a11ySeed seeds s's shop once: the crew (a11yCrew) in place of the
// test shop's owner, an invitation the Owner sent and a few audit events of the kinds the log shows (a role
// change, a refused sign-in, an impersonation). A later call seeds
// nothing more.
func a11ySeed(t *testing.T, s *site) {
	t.Helper()
	if _, err := s.e.Auth.UserByEmail(t.Context(), a11yCrew[0].email); err == nil {
		return
	}
	owner := a11yCrewSeed(t, s, ports.RoleOwner)
	// The test shop's own owner (named by its ID) leaves: the crew's Owner
	// owns the shop.
	require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Memberships().Remove(ctx, s.shop.Owner)
	}))
	res := settingsPost(t, s, web.InvitationsPath, url.Values{"email": {"lin@acme-bikes.example"}, "role": {string(ports.RoleTech)}},
		s.apiSignIn(t, owner.email, a11yPassword))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	user := func(email string) string {
		u, err := s.e.Auth.UserByEmail(t.Context(), email)
		require.NoError(t, err)
		return "user:" + u.ID.String()
	}
	olive, grace, vera, sam := user(a11yCrew[0].email), user(a11yCrew[2].email), user(a11yCrew[4].email), user(a11yCrew[3].email)
	require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for i, e := range []ports.AuditEvent{
			{Actor: olive, Action: "membership.role_changed", Target: grace, Outcome: ports.OutcomeSuccess, IP: "192.0.2.7"},
			{Actor: "anonymous", Action: "auth.signin", Target: vera, Outcome: ports.OutcomeFailure, IP: "198.51.100.23"},
			{Actor: "operator:olga@ops.example.com", Action: "impersonation.started", Target: sam, Outcome: ports.OutcomeSuccess, IP: "203.0.113.5",
				After: []byte(`{"reason":"Ticket #22: the invoice page"}`)},
		} {
			e.ID, e.Time = ports.NewEventID(), time.Now()
			if _, err := tx.Audit().Append(ctx, e); err != nil {
				return fmt.Errorf("seed event %d: %w", i, err)
			}
		}
		return nil
	}))
}

// a11yShop seeds s's shop (a11ySeed) and returns a new session of the
// crew member with role, signed in through the API.
func a11yShop(t *testing.T, s *site, role ports.Role) string {
	t.Helper()
	a11ySeed(t, s)
	return s.apiSignIn(t, a11yCrewSeed(t, s, role).email, a11yPassword)
}

// a11yTOTPMember signs in a fresh member (name) who has an authenticator
// app and a passkey, so account security shows the factor, the recovery
// codes' form and the passkeys list; the session is past its second
// factor.
func a11yTOTPMember(t *testing.T, s *site, name string) string {
	t.Helper()
	email, password := s.member(t, name)
	cookie := s.apiSignIn(t, email, password)
	s.enrolTOTPThroughAPI(t, cookie)
	s.accountPasskey(t, cookie, "Work laptop")
	return cookie
}

// a11yOperator creates an operator with an authenticator app, signs them
// in through the console's form and returns the operator cookie.
func a11yOperator(t *testing.T, s *site) string {
	t.Helper()
	email, password, secret := consoleOperator(t, s, true)
	return s.consoleSignIn(t, email, password, secret)
}

// a11yNewOperator signs in an operator without a factor: the session may
// only set one up (ConsoleTOTPPath).
func a11yNewOperator(t *testing.T, s *site) string {
	t.Helper()
	email, password, _ := consoleOperator(t, s, false)
	res := s.consoleDo(t, s.consolePlatform(), http.MethodPost, web.ConsoleSignInPath,
		url.Values{"email": {email}, "password": {password}}, "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.ConsoleTOTPPath, res.Header.Get("Location"))
	return cookieOf(t, res, auth.OperatorCookieName)
}

// a11yConsoleFound is the console with the shop and a crew member found.
func a11yConsoleFound(t *testing.T, s *site) string {
	t.Helper()
	a11ySeed(t, s)
	return "http://" + s.consolePlatform() + web.ConsolePath + "?shop=" + url.QueryEscape(s.shop.Slug) +
		"&email=" + url.QueryEscape(a11yCrew[3].email)
}

// a11yConsoleMembers is the console with the shop found and its members
// listed.
func a11yConsoleMembers(t *testing.T, s *site) string {
	t.Helper()
	a11ySeed(t, s)
	return "http://" + s.consolePlatform() + web.ConsolePath + "?shop=" + url.QueryEscape(s.shop.Slug) + "&members=1"
}

// a11yPublicURL serves an app's public capability page (a quote) through
// web.NewPublicShell on a server of its own and returns its URL on the
// shop's host.
func a11yPublicURL(t *testing.T, s *site) string {
	t.Helper()
	srv := publicServer(t, s, web.Options{}, publicPage(t, "Quote #7: two wheels trued", "Ada Lovelace"))
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return "http://" + s.shop.Slug + ".localhost:" + u.Port() + "/p/quotes/7?token=x"
}

// a11yBrowser is browser without its bound: a headless Chromium whose
// tab the caller bounds page by page (a11yPageBound), since the table of
// pages takes longer than one bound for all.
func a11yBrowser(t *testing.T) context.Context {
	t.Helper()
	ch := testinfra.StartChromium(t, "MAP *.localhost 127.0.0.1")
	alloc, cancelAlloc := remote.NewAllocator(context.Background(), ch.WebSocketURL)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "attach to chromium")
	return tab
}

// a11yPageBound bounds what t does in the tab to a minute (a page at
// every width).
func a11yPageBound(t *testing.T, tab context.Context) context.Context {
	ctx, cancel := context.WithTimeout(tab, time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// a11ySites starts the sites pages are seen on, by their on: the plain
// site, one with billing (settingsBillingSite) and one for the crew, each
// only when a page needs it.
func a11ySites(t *testing.T, pages []browserPage) map[string]*site {
	t.Helper()
	sites := map[string]*site{}
	for _, pg := range pages {
		if sites[pg.on] != nil {
			continue
		}
		switch pg.on {
		case "", "crew":
			sites[pg.on] = newSite(t, web.Options{})
		case "billing":
			sites[pg.on] = settingsBillingSite(t)
		default:
			t.Fatalf("%s: no site %q", pg.name, pg.on)
		}
	}
	return sites
}

// a11yOrgInvitation stores a pending org invitation of the shop's org and
// returns its mailed link's page on the shop's host.
func a11yOrgInvitation(t *testing.T, s *site) string {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	hash := sha256.Sum256(raw)
	require.NoError(t, s.e.Store.Global(t.Context(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.OrgInvitations().Create(ctx, ports.OrgInvitation{ID: ports.NewInvitationID(), OrgID: s.shop.Org,
			TokenHash: hash[:], Email: "grace@example.com", Role: ports.OrgAdmin, ExpiresAt: time.Now().Add(time.Hour)})
		return err
	}))
	return s.url(web.OrgInvitationPath + "?token=" + base64.RawURLEncoding.EncodeToString(raw))
}
