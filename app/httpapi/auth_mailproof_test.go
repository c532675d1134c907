package httpapi_test

// Mailbox proof (AUTH-16) and password reset (AUTH-17), attacked over
// HTTP as an outsider would: sign up for somebody else's address and wait
// for its owner to join; tell known from unknown addresses by the sign-up
// answer; replay, age, swap and mix mailed tokens.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

const (
	attackerPassword = "attacker-Crowbar-pass-31"
	victimPassword   = "victim-Own-garden-pass-8"
	// verifyTTL and resetTTL are the documented defaults of
	// auth.Config.VerifyTTL and ResetTTL.
	verifyTTL = 30 * time.Minute
	resetTTL  = 30 * time.Minute
)

// legacyAccount makes the account the old POST /auth/signup made for
// whoever asked: the address of somebody else, a password the asker chose,
// no proof of the mailbox.
func (h *harness) legacyAccount(email, password string) ports.User {
	h.t.Helper()
	hash, err := h.hasher.Hash(context.Background(), password)
	require.NoError(h.t, err)
	var u ports.User
	require.NoError(h.t, h.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: "Not The Owner"}); err != nil {
			return err
		}
		if _, err := tx.Identities().Link(ctx, ports.Identity{Issuer: "https://attacker-idp.example", Subject: "me", UserID: u.ID, Email: email}); err != nil {
			return err
		}
		return tx.Passwords().Set(ctx, u.ID, hash)
	}))
	return u
}

// issue mints a session for u in shop as a sign-in would, and returns its
// cookie: the attacker's foothold from before the owner joined.
func (h *harness) issue(shop ports.Shop, u ports.User) string {
	h.t.Helper()
	var is auth.Issued
	require.NoError(h.t, h.raw.InShop(context.Background(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		is, err = h.svc.IssueSession(ctx, tx, u.ID, auth.MethodPassword, auth.Client{}, "")
		return err
	}))
	return is.Cookie
}

func (h *harness) identities(u ports.User) []ports.Identity {
	h.t.Helper()
	var out []ports.Identity
	require.NoError(h.t, h.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Identities().ListByUser(ctx, u.ID)
		return err
	}, ports.ReadOnly()))
	return out
}

func (h *harness) signInStatus(host, email, password string) int {
	h.t.Helper()
	res := h.serve(call{method: http.MethodPost, path: "/auth/signin", host: host, body: credentials(email, password)})
	_ = readBody(h.t, res)
	return res.StatusCode
}

// mailLink returns the link in the last mail to addr and its token.
func (h *harness) mailLink(addr string) (*url.URL, string) {
	h.t.Helper()
	msgs := h.mailer.messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To != addr {
			continue
		}
		for _, field := range strings.Fields(msgs[i].Text) {
			if strings.HasPrefix(field, "https://") {
				u, err := url.Parse(field)
				require.NoError(h.t, err)
				return u, u.Query().Get("token")
			}
		}
		h.t.Fatalf("no link in the last mail to %s: %q", addr, msgs[i].Text)
	}
	h.t.Fatalf("no mail to %s", addr)
	return nil, ""
}

func (h *harness) mailsTo(addr string) []ports.Mail {
	var out []ports.Mail
	for _, m := range h.mailer.messages() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func signUpBody(email, password string) string {
	return `{"email":"` + email + `","name":"Someone","password":"` + password + `"}`
}

func (h *harness) post(host, path, body string) *http.Response {
	h.t.Helper()
	return h.serve(call{method: http.MethodPost, path: path, host: host, body: body})
}

// TestSignUpAnswersAlike (AUTH-16): sign-up is no account oracle. The
// known, verified address and an unknown one get the same status and the
// same body; the known account is not touched (the asker's password does
// not sign in as it), its owner is told by mail, and no account exists for
// the unknown one until its mailbox answers. Fails on the old code: 409
// against 201, and the account was created at once.
func TestSignUpAnswersAlike(t *testing.T) {
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		before := h.storedHash(h.ann)
		known := h.post("example.test", "/auth/signup", signUpBody("ann@example.test", attackerPassword))
		unknown := h.post("example.test", "/auth/signup", signUpBody("fresh@example.test", attackerPassword))
		kb, ub := readBody(t, known), readBody(t, unknown)
		require.Equal(t, http.StatusAccepted, known.StatusCode, kb)
		assert.Equal(t, unknown.StatusCode, known.StatusCode)
		assert.Equal(t, ub, kb, "the same body for a known and an unknown address")
		assert.Equal(t, unknown.Header.Get("Content-Type"), known.Header.Get("Content-Type"))

		assert.Equal(t, before, h.storedHash(h.ann), "the known account's password is untouched")
		assert.Equal(t, http.StatusUnauthorized, h.signInStatus("acme.example.test", "ann@example.test", attackerPassword))
		h.signIn("acme.example.test", "ann@example.test", annPassword)
		toAnn := h.mailsTo("ann@example.test")
		require.Len(t, toAnn, 1)
		assert.Contains(t, toAnn[0].Text, "already has an account")
		assert.NotContains(t, toAnn[0].Text, "token=", "the note carries no usable link")
		_, err := h.svc.UserByEmail(context.Background(), "fresh@example.test")
		require.ErrorIs(t, err, ports.ErrNotFound, "no account before the mailbox answers")
		require.Len(t, h.mailsTo("fresh@example.test"), 1)
	})
}

// TestSignUpVerification (AUTH-16): the mailed link creates the account
// with the chosen password; its page changes nothing; the link is
// single-use, expires, and works for nothing else. Fails on the old code,
// which created the account at once and mailed nothing.
func TestSignUpVerification(t *testing.T) {
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		res := h.post("acme.example.test", "/auth/signup", signUpBody("Fresh@Example.test", victimPassword))
		require.Equal(t, http.StatusAccepted, res.StatusCode, readBody(t, res))
		link, token := h.mailLink("fresh@example.test")
		assert.Equal(t, "example.test", link.Host, "the link is built from the public URL, never the request's host")
		assert.Equal(t, "/signup/verify", link.Path, "the mailed link opens app/web's page")

		// The API's old GET path for the token answers 303 to the page.
		page := h.serve(call{method: http.MethodGet, path: "/auth/verify?" + link.RawQuery, host: "example.test"})
		require.Equal(t, http.StatusSeeOther, page.StatusCode)
		assert.Equal(t, link.RequestURI(), page.Header.Get("Location"))
		_, err := h.svc.UserByEmail(context.Background(), "fresh@example.test")
		require.ErrorIs(t, err, ports.ErrNotFound, "opening the link (a mail scanner) creates nothing")

		problemOf(t, h.post("example.test", "/auth/password-reset/confirm", `{"token":"`+token+`","password":"`+attackerPassword+`"}`), http.StatusUnauthorized)
		res = h.post("example.test", "/auth/verify", `{"token":"`+token+`"}`)
		require.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))
		u, err := h.svc.UserByEmail(context.Background(), "fresh@example.test")
		require.NoError(t, err)
		h.addMember(h.acme, u, ports.RoleViewer)
		h.signIn("acme.example.test", "fresh@example.test", victimPassword)

		problemOf(t, h.post("example.test", "/auth/verify", `{"token":"`+token+`"}`), http.StatusUnauthorized)
		assert.Equal(t, 0, h.countRows("mail_tokens"), "the spent token is gone")

		h.post("example.test", "/auth/signup", signUpBody("late@example.test", victimPassword))
		_, late := h.mailLink("late@example.test")
		h.clock.Advance(verifyTTL)
		problemOf(t, h.post("example.test", "/auth/verify", `{"token":"`+late+`"}`), http.StatusUnauthorized)
		_, err = h.svc.UserByEmail(context.Background(), "late@example.test")
		require.ErrorIs(t, err, ports.ErrNotFound, "an expired link creates nothing")
	})
}

// TestPreJoinTakeoverEndsAtFirstProof (AUTH-16): an account the old
// sign-up made for somebody else's address, with the asker's password,
// identity link and sessions in two shops. Its password does not sign in;
// the owner's first mailbox proof, whichever kind, removes the password
// and the link and ends the sessions everywhere, audited in each shop.
// Fails on the old code: the asker's password signed in, and a magic link
// left the asker's sessions working.
func TestPreJoinTakeoverEndsAtFirstProof(t *testing.T) {
	proofs := []struct {
		name  string
		prove func(h *harness) // the owner proves the mailbox and ends up with victimPassword where the proof sets one
		sets  bool             // the proof sets victimPassword
		audit string           // the event each shop of the account gets
	}{
		{"magic link", func(h *harness) {
			require.Equal(h.t, http.StatusAccepted, h.post("acme.example.test", "/auth/magic-link", `{"email":"victim@example.test"}`).StatusCode)
			_, token := h.mailLink("victim@example.test")
			res := h.post("acme.example.test", "/auth/magic-link/consume", `{"token":"`+token+`"}`)
			require.Equal(h.t, http.StatusOK, res.StatusCode, readBody(h.t, res))
			assert.Equal(h.t, http.StatusOK, h.me("acme.example.test", sessionCookie(h.t, res)), "the owner's new session works")
		}, false, "auth.mailbox.proven"},
		{"sign-up link", func(h *harness) {
			require.Equal(h.t, http.StatusAccepted, h.post("example.test", "/auth/signup", signUpBody("victim@example.test", victimPassword)).StatusCode)
			_, token := h.mailLink("victim@example.test")
			res := h.post("example.test", "/auth/verify", `{"token":"`+token+`"}`)
			require.Equal(h.t, http.StatusCreated, res.StatusCode, readBody(h.t, res))
		}, true, "auth.mailbox.proven"},
		{"password reset", func(h *harness) {
			require.Equal(h.t, http.StatusAccepted, h.post("example.test", "/auth/password-reset", `{"email":"victim@example.test"}`).StatusCode)
			_, token := h.mailLink("victim@example.test")
			res := h.post("example.test", "/auth/password-reset/confirm", `{"token":"`+token+`","password":"`+victimPassword+`"}`)
			require.Equal(h.t, http.StatusNoContent, res.StatusCode, readBody(h.t, res))
		}, true, "auth.password.reset"},
	}
	for _, p := range proofs {
		t.Run(p.name, func(t *testing.T) {
			onBothStores(t, func(t *testing.T, store harnessOption) {
				h := newHarness(t, store)
				victim := h.legacyAccount("victim@example.test", attackerPassword)
				h.addMember(h.acme, victim, ports.RoleTech)
				h.addMember(h.bolt, victim, ports.RoleViewer)
				inAcme, inBolt := h.issue(h.acme, victim), h.issue(h.bolt, victim)
				require.Equal(t, http.StatusOK, h.me("acme.example.test", inAcme))

				res := h.post("acme.example.test", "/auth/signin", credentials("victim@example.test", attackerPassword))
				problem := problemOf(t, res, http.StatusUnauthorized)
				assert.Contains(t, problem.Detail, "not verified", "a password set before the mailbox was proven does not sign in")

				h.clock.Advance(time.Second)
				p.prove(h)

				assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", inAcme), "the asker's session in acme ended")
				assert.Equal(t, http.StatusUnauthorized, h.me("bolt.example.test", inBolt), "the asker's session in bolt ended")
				assert.Equal(t, http.StatusUnauthorized, h.signInStatus("acme.example.test", "victim@example.test", attackerPassword))
				assert.Empty(t, h.identities(victim), "the asker's identity link is gone")
				if p.sets {
					h.signIn("bolt.example.test", "victim@example.test", victimPassword)
				}
				for _, shop := range []ports.Shop{h.acme, h.bolt} {
					evs := h.events(shop, p.audit)
					require.Len(t, evs, 1, "audited in %s", shop.Slug)
					assert.Equal(t, "user:"+victim.ID.String(), evs[0].Actor)
				}
			})
		})
	}
}

// TestPasswordReset (AUTH-17): known and unknown addresses get the same
// answer; the link's page changes nothing; the token resets only its own
// account, once, before it expires, and only as a reset; a reset ends the
// account's sessions in every shop and is audited in each. Fails on the
// old code, which had no reset.
func TestPasswordReset(t *testing.T) {
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		const newPassword = "ann-Brand-new-lantern-7"
		annAcme, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		annBolt, _ := h.signIn("bolt.example.test", "ann@example.test", annPassword)
		tomAcme, _ := h.signIn("acme.example.test", "tom@example.test", tomPassword)

		known := h.post("acme.example.test", "/auth/password-reset", `{"email":"Ann@Example.test"}`)
		unknown := h.post("acme.example.test", "/auth/password-reset", `{"email":"nobody@example.test"}`)
		kb, ub := readBody(t, known), readBody(t, unknown)
		require.Equal(t, http.StatusAccepted, known.StatusCode, kb)
		assert.Equal(t, unknown.StatusCode, known.StatusCode)
		assert.Equal(t, ub, kb)
		assert.Empty(t, h.mailsTo("nobody@example.test"))
		link, token := h.mailLink("ann@example.test")
		assert.Equal(t, "example.test", link.Host)
		assert.Equal(t, "/password-reset/new", link.Path, "the mailed link opens app/web's page")

		// The API's old GET path for the token answers 303 to the page.
		page := h.serve(call{method: http.MethodGet, path: "/auth/password-reset?" + link.RawQuery, host: "example.test"})
		require.Equal(t, http.StatusSeeOther, page.StatusCode)
		assert.Equal(t, link.RequestURI(), page.Header.Get("Location"))
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", annAcme), "opening the link changes nothing")

		confirm := func(token, password string) *http.Response {
			return h.post("example.test", "/auth/password-reset/confirm", `{"token":"`+token+`","password":"`+password+`"}`)
		}
		problemOf(t, h.post("example.test", "/auth/password-reset/confirm", `{"token":"`+token+`","password":"`+newPassword+`","email":"tom@example.test"}`), http.StatusBadRequest)
		problemOf(t, h.post("example.test", "/auth/verify", `{"token":"`+token+`"}`), http.StatusUnauthorized)
		problemOf(t, confirm(token, "password123"), http.StatusBadRequest)
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", annAcme), "refusals changed nothing")

		res := confirm(token, newPassword)
		require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", annAcme), "ann's session in acme ended")
		assert.Equal(t, http.StatusUnauthorized, h.me("bolt.example.test", annBolt), "ann's session in bolt ended")
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", tomAcme), "tom's session is not touched")
		assert.Equal(t, http.StatusUnauthorized, h.signInStatus("acme.example.test", "ann@example.test", annPassword))
		h.signIn("bolt.example.test", "ann@example.test", newPassword)
		h.signIn("acme.example.test", "tom@example.test", tomPassword)
		for _, shop := range []ports.Shop{h.acme, h.bolt} {
			evs := h.events(shop, "auth.password.reset")
			require.Len(t, evs, 1, "audited in %s", shop.Slug)
			assert.Equal(t, "user:"+h.ann.ID.String(), evs[0].Actor)
			assert.NotContains(t, string(evs[0].After), newPassword)
		}
		assert.Empty(t, h.events(h.acme, "auth.mailbox.proven"), "ann's mailbox was proven before")

		problemOf(t, confirm(token, "ann-Third-lantern-pass-9"), http.StatusUnauthorized)
		h.signIn("acme.example.test", "ann@example.test", newPassword)

		// Tom's token resets tom only.
		h.post("example.test", "/auth/password-reset", `{"email":"tom@example.test"}`)
		_, tomToken := h.mailLink("tom@example.test")
		require.Equal(t, http.StatusNoContent, confirm(tomToken, "tom-Second-ladder-pass-2").StatusCode)
		h.signIn("acme.example.test", "ann@example.test", newPassword)
		h.signIn("acme.example.test", "tom@example.test", "tom-Second-ladder-pass-2")

		// Expired.
		h.post("example.test", "/auth/password-reset", `{"email":"ann@example.test"}`)
		_, late := h.mailLink("ann@example.test")
		h.clock.Advance(resetTTL)
		problemOf(t, confirm(late, "ann-Too-late-lantern-3"), http.StatusUnauthorized)
		h.signIn("acme.example.test", "ann@example.test", newPassword)
	})
}

// TestPasswordResetRequestsAreLimited (AUTH-10, AUTH-17): reset requests
// are charged per address like magic-link requests.
func TestPasswordResetRequestsAreLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	limit := auth.Config{}.WithDefaults().Limits.MagicPerEmail
	for i := range limit {
		res := h.post("example.test", "/auth/password-reset", `{"email":"ann@example.test"}`)
		require.Equal(t, http.StatusAccepted, res.StatusCode, "request %d", i+1)
	}
	problemOf(t, h.post("example.test", "/auth/password-reset", `{"email":"ann@example.test"}`), http.StatusTooManyRequests)
	assert.Len(t, h.mailsTo("ann@example.test"), limit)
}

// TestVerifiedOIDCEmailIsAFirstProof (AUTH-5, AUTH-16): an identity
// provider's verified e-mail proves the mailbox of an account the old
// sign-up made: the asker's password, link and sessions go, the owner's
// identity is linked. Fails on the old code, which linked the owner's
// identity to the asker's account and kept the asker's password.
func TestVerifiedOIDCEmailIsAFirstProof(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	p, err := oidc.New(context.Background(), oidc.Config{
		Name: "corp", Issuer: iss.URL(), ClientID: iss.ClientID(), ClientSecret: iss.ClientSecret(), HTTPClient: iss.Client(),
	})
	require.NoError(t, err)
	iss.AddUser(oidctest.User{Subject: "sub-victim", Email: "victim@example.test", EmailVerified: true, Name: "Victim"})
	w := oidcWorld{harness: newHarness(t, withProviders(p)), iss: iss}
	victim := w.legacyAccount("victim@example.test", attackerPassword)
	w.addMember(w.acme, victim, ports.RoleTech)
	w.addMember(w.bolt, victim, ports.RoleTech)
	inBolt := w.issue(w.bolt, victim)
	w.clock.Advance(time.Second)

	authURL, state := w.start("acme.example.test")
	res := w.callback(w.iss.Authorize(t, authURL.String(), "sub-victim"), state)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	assert.Equal(t, http.StatusOK, w.me("acme.example.test", sessionCookie(t, res)), "the owner is signed in")
	assert.Equal(t, http.StatusUnauthorized, w.me("bolt.example.test", inBolt), "the asker's session ended")
	assert.Equal(t, http.StatusUnauthorized, w.signInStatus("acme.example.test", "victim@example.test", attackerPassword))
	ids := w.identities(victim)
	require.Len(t, ids, 1, "only the owner's identity is linked")
	assert.Equal(t, "sub-victim", ids[0].Subject)
	assert.Len(t, w.events(w.bolt, "auth.mailbox.proven"), 1)
}

// TestSignUpRequestsAreLimited (AUTH-10, AUTH-16): sign-ups are charged per
// e-mail (and per client address), so nobody can flood one mailbox with
// confirmation mail; the limit answers alike for known and unknown
// addresses.
func TestSignUpRequestsAreLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	limit := auth.Config{}.WithDefaults().Limits.SignUpPerEmail
	for _, addr := range []string{"ann@example.test", "fresh@example.test"} {
		for i := range limit {
			res := h.post("example.test", "/auth/signup", signUpBody(addr, victimPassword))
			require.Equal(t, http.StatusAccepted, res.StatusCode, "%s, sign-up %d", addr, i+1)
		}
		problemOf(t, h.post("example.test", "/auth/signup", signUpBody(addr, victimPassword)), http.StatusTooManyRequests)
		assert.Len(t, h.mailsTo(addr), limit)
	}
}
