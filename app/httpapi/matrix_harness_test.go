package httpapi_test

// The harness of the cross-tenant attack matrix: one store (SQLite, or
// Postgres as the application role under RLS) with two shops of ONE org —
// alpha, whose members attack, and bravo, the victim — and the full API
// (auth, files, tenancy, …) built over it with a chosen permission policy.
//
// Billing is the one part that needs a process outside the test binary
// (stripe-mock): without it newMatrixWorld builds the world without
// billing — the API then has no billing routes, and each test that
// enumerates routes names the ones it left out in a skipped "billing
// routes" subtest (skipLeftOutBillingRoutes) — while a test that drives
// billing builds its world with newBillingMatrixWorld, which skips.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/auth/passwordpolicy"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

const matrixPassword = "matrix-Teapot-password-77"

type matrixWorld struct {
	t       *testing.T
	clock   *manualClock
	raw     rawStore
	objects *localfs.Store
	mailer  *recordingMailer
	// canary fails the test if a secret of the world (registerCanaries),
	// a session or operator cookie, a mailed link token or a secret a test
	// registers appears in a log line (the API's and billing's) or a
	// problem body (every answer of the API, see observedAPI).
	canary *canary.Sink
	keys   *auth.Keyring
	// kms seals the webhook endpoints' secrets and the second factors'
	// for every API the world builds.
	kms ports.KeyManager
	// totp plays the authenticator app of the operators and members the
	// tests enrol (see totpApp).
	totp   totpApp
	hasher *passhash.Hasher
	seq    atomic.Int64
	// unsubscribeKey signs the one-click links of every API the world builds.
	unsubscribeKey []byte
	// twilioHooks and resendHooks verify the webhooks of the APIs built
	// after they are set (default: the test HMAC verifier).
	twilioHooks, resendHooks ports.WebhookVerifier

	alpha, bravo, charlie ports.Shop // charlie: a third shop of the org, for status changes
	// members of alpha, one per role; hqAdmin is an org admin (and a
	// viewer of alpha, to have a session there); bob owns bravo.
	byRole  map[ports.Role]ports.User
	hqAdmin ports.User
	// orgOwner created the org: its owner and an Owner of alpha. The
	// members in byRole hold no org role.
	orgOwner ports.User
	bob      ports.User

	// bravo's resources, by path parameter name, and strings that must
	// never appear in an answer to an alpha member.
	bravoParams  map[string]string
	bravoSecrets []string
	// bravoLinkToken is the token of bravo's link to its file.
	bravoLinkToken string

	// logs collects the log lines of the API and of the billing service.
	logs *syncBuffer
	// bill builds billing services on a real stripe-mock; nil in a world
	// built without billing (stripe-mock is not installed).
	bill *billingKit
	// bravo's billing: its Stripe customer, subscription and Connect
	// account ("" without billing).
	bravoCustomer, bravoSub, bravoAccount string
}

// matrixAPI is the full API over the world's store with one policy.
type matrixAPI struct {
	w       *matrixWorld
	api     *observedAPI
	auth    *auth.Service
	files   *storage.Service
	tenancy *tenancy.Service
	links   *capability.Service
	billing *billing.Service // nil in a world without billing
	msg     *messaging.Service
	hooks   *webhooks.Service
	scim    *scim.Service
}

// quoteKind is an embedding app's record type in the matrix: quotes that
// links may let a customer view, accept or pay. Any ID names a quote.
func quoteKind() capability.Kind {
	return capability.Kind{Type: "quote", Actions: []string{"accept", "pay", "view"}}
}

// quoteRoutes are the app's public routes for quotes, registered through
// the router like any embedding app's: each answers what the capability
// scope it was given allows it, after its own access.RequireRecord.
func quoteRoutes() []httpapi.LinkRoute {
	serve := func(action string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			sc, err := access.RequireRecord(r.Context(), "quote", r.PathValue("quote"), action)
			if err != nil {
				httpapi.WriteProblem(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"quote": sc.Capability.RecordID, "action": action, "actor": sc.Actor(), "shop": sc.Shop.String(), "org": sc.Org.String()})
		}
	}
	return []httpapi.LinkRoute{
		{Method: "GET", Path: "/p/quotes/{quote}", RecordType: "quote", RecordParam: "quote", Action: "view", Handler: serve("view")},
		{Method: "POST", Path: "/p/quotes/{quote}/accept", RecordType: "quote", RecordParam: "quote", Action: "accept", Handler: serve("accept")},
	}
}

// newMatrixWorld builds the world on SQLite, or on Postgres when onPG. Its
// billing — a billing service on stripe-mock, and bravo's Stripe customer,
// subscription, card and Connect account — is there when stripe-mock is;
// without it (and STOCKADE_REQUIRE_INTEGRATION unset) the world has no
// billing, and a test that enumerates the API's routes must say what it
// left out with skipLeftOutBillingRoutes.
func newMatrixWorld(t *testing.T, onPG bool) *matrixWorld {
	t.Helper()
	mock, ok := testinfra.OptionalStripeMock(t)
	return buildMatrixWorld(t, onPG, mock, ok)
}

// newBillingMatrixWorld is newMatrixWorld for a test that drives billing:
// without stripe-mock it skips t (fails it under
// STOCKADE_REQUIRE_INTEGRATION=1) before building anything.
func newBillingMatrixWorld(t *testing.T, onPG bool) *matrixWorld {
	t.Helper()
	return buildMatrixWorld(t, onPG, testinfra.StartStripeMock(t), true)
}

// buildMatrixWorld builds the world, with billing on mock when withBilling.
func buildMatrixWorld(t *testing.T, onPG bool, mock testinfra.StripeMock, withBilling bool) *matrixWorld {
	t.Helper()
	ctx := context.Background()
	w := &matrixWorld{t: t, clock: newManualClock(), mailer: newRecordingMailer(t), byRole: map[ports.Role]ports.User{}, logs: &syncBuffer{}}
	if withBilling {
		w.bill = newBillingKit(t, mock, w.logs)
	}
	if onPG {
		pg := testinfra.StartPostgres(t)
		_, err := postgres.Migrate(ctx, pg.OwnerURL)
		require.NoError(t, err)
		st, err := postgres.Open(ctx, pg.AppURL, postgres.WithClock(w.clock))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		w.raw = st
	} else {
		dbURL := "sqlite://" + filepath.Join(t.TempDir(), "matrix.db")
		_, err := sqlite.Migrate(ctx, dbURL)
		require.NoError(t, err)
		st, err := sqlite.Open(ctx, dbURL, sqlite.WithClock(w.clock))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		w.raw = st
	}
	w.mailer.deliverFrom(w.raw, w.clock.Now)
	w.canary = canary.New(t)
	w.mailer.canary = w.canary
	if w.bill != nil {
		w.bill.canary = w.canary
	}
	w.registerCanaries()
	var err error
	w.objects, err = localfs.Open(t.TempDir(), localfs.Options{BaseURL: "https://example.test/objects/", SigningKey: noise(32), Clock: w.clock})
	require.NoError(t, err)
	t.Cleanup(func() { w.objects.Close() })
	w.unsubscribeKey = noise(32)
	w.twilioHooks, w.resendHooks = hmacVerifier{key: webhookKey}, hmacVerifier{key: webhookKey}
	w.keys, err = auth.NewKeyring(auth.Key{ID: "k1", Secret: noise(32)})
	require.NoError(t, err)
	w.hasher, err = passhash.New(passhash.Config{Params: cheapParams})
	require.NoError(t, err)

	def := w.api(access.DefaultPolicy())
	sys := access.With(ctx, access.Scope{System: "test"})
	var alphaOwner ports.User
	for _, r := range ports.DefaultRoles() {
		u, err := def.auth.CreateUser(ctx, string(r)+"@alpha.test", "Alpha "+string(r), matrixPassword)
		require.NoError(t, err)
		w.byRole[r] = u
	}
	w.orgOwner, err = def.auth.CreateUser(ctx, "org-owner@alpha.test", "Org Owner", matrixPassword)
	require.NoError(t, err)
	alphaOwner = w.orgOwner
	org, alpha, err := def.tenancy.CreateOrg(sys, tenancy.NewOrg{Name: "Matrix Holdings", Slug: "alpha", ShopName: "Alpha Plumbing", Owner: w.orgOwner.ID})
	require.NoError(t, err)
	w.alpha = alpha
	inAlpha := access.System(ctx, alpha.ID, org.ID, "test")
	for _, r := range ports.DefaultRoles() {
		_, err := def.tenancy.AddMember(inAlpha, w.byRole[r].Email, r)
		require.NoError(t, err)
	}
	w.hqAdmin, err = def.auth.CreateUser(ctx, "hq@alpha.test", "HQ Admin", matrixPassword)
	require.NoError(t, err)
	_, err = def.tenancy.AddMember(inAlpha, w.hqAdmin.Email, ports.RoleViewer)
	require.NoError(t, err)
	require.NoError(t, def.tenancy.SetOrgRole(inAlpha, w.hqAdmin.Email, ports.OrgAdmin))

	// bravo: same org, so that only the org-role check stands between an
	// alpha member and bravo's data on the HQ routes.
	asOwner := access.With(ctx, access.Scope{Shop: alpha.ID, Org: org.ID, User: alphaOwner.ID, Role: ports.RoleOwner})
	w.bob, err = def.auth.CreateUser(ctx, "bob.secret@bravo.test", "Bob Bravo-Secret", matrixPassword)
	require.NoError(t, err)
	w.bravo, err = def.tenancy.AddShop(asOwner, tenancy.NewShop{Slug: "bravo", Name: "Bravo Secret Electric"})
	require.NoError(t, err)
	w.charlie, err = def.tenancy.AddShop(asOwner, tenancy.NewShop{Slug: "charlie", Name: "Charlie Heating"})
	require.NoError(t, err)
	inBravo := access.System(ctx, w.bravo.ID, org.ID, "test")
	_, err = def.tenancy.AddMember(inBravo, w.bob.Email, ports.RoleAdmin)
	require.NoError(t, err)
	asBob := access.With(ctx, access.Scope{Shop: w.bravo.ID, Org: org.ID, User: w.bob.ID, Role: ports.RoleAdmin})
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("b"), 300)...)
	f, err := def.files.Upload(asBob, storage.UploadInput{Kind: "document", Name: "bravo-secret-plans.pdf", Size: int64(len(pdf)), Body: bytes.NewReader(pdf)})
	require.NoError(t, err)
	inv, err := def.tenancy.Invite(asBob, tenancy.InviteInput{Email: "invitee.secret@bravo.test", Role: ports.RoleTech, LinkPrefix: "https://bravo.example.test/invitations/accept?token="})
	require.NoError(t, err)
	_, bobSession := w.signIn(def, "bravo", w.bob.Email)
	bravoJob := w.enqueueDead(w.bravo.ID, "bravo.secret-job")
	bravoLink, err := def.links.Mint(asBob, capability.MintInput{RecordType: "file", RecordID: f.ID.String(), Actions: []string{"download"}})
	require.NoError(t, err)
	w.bravoLinkToken = bravoLink.Token
	if w.bill != nil {
		w.bravoBilling(def, inBravo)
	}
	bravoMsg, err := def.msg.Send(asBob, messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryMarketing,
		To: messaging.Address{Email: "carol.secret@bravo.test", Phone: "+15550109999"}, Subject: "Bravo secret offer", Body: "x"})
	require.NoError(t, err)
	bravoHook, err := def.hooks.CreateEndpoint(asBob, webhooks.EndpointInput{URL: "https://bravo-secret-hooks.example.test/in",
		Events: []string{"*"}, Description: "Bravo secret CRM"})
	require.NoError(t, err)
	bravoKey := w.addPasskey(w.bravo.ID, w.bob.ID, "Bravo secret key")
	w.bravoParams = map[string]string{
		"passkey":  bravoKey.ID.String(),
		"endpoint": bravoHook.Endpoint.ID.String(),
		"contact":  bravoMsg.Contact.String(), "message": bravoMsg.ID.String(),
		"file": f.ID.String(), "user": w.bob.ID.String(), "invitation": inv.ID.String(),
		"session": bobSession.SessionID, "hq_shop": "bravo", "shop_slug": "bravo", "provider": "none", "domain": "bravo-matrix.test",
		"job": bravoJob.String(), "link": bravoLink.Capability.ID.String(), "quote": "Q-bravo-secret",
		// SCIM rows are the org's, not bravo's: the org routes refuse every
		// member without an org role before any lookup.
		"scim_token": ports.NewSCIMTokenID().String(), "scim_mapping": ports.NewSCIMMappingID().String(),
	}
	w.bravoSecrets = []string{
		w.bravo.ID.String(), "Bravo Secret Electric", w.bob.ID.String(), "bob.secret@bravo.test", "Bob Bravo-Secret",
		f.ID.String(), "bravo-secret-plans.pdf", inv.ID.String(), "invitee.secret@bravo.test", bobSession.SessionID,
		bravoJob.String(), "bravo.secret-job", bravoLink.Capability.ID.String(), bravoLink.Token,
		bravoMsg.Contact.String(), bravoMsg.ID.String(), "carol.secret@bravo.test", "+15550109999", "Bravo secret offer",
		bravoHook.Endpoint.ID.String(), "bravo-secret-hooks.example.test", "Bravo secret CRM", bravoHook.Secret,
		bravoKey.ID.String(), "Bravo secret key",
	}
	if w.bill != nil {
		w.bravoSecrets = append(w.bravoSecrets, w.bravoCustomer, w.bravoSub, w.bravoAccount)
	}
	return w
}

// bravoBilling gives bravo a Stripe customer and Connect account (through
// stripe-mock), an active subscription and a card (through signed
// webhooks), so that the matrix can prove none of it moves.
func (w *matrixWorld) bravoBilling(a *matrixAPI, inBravo context.Context) {
	t := w.t
	_, err := a.billing.StartCheckout(inBravo, billing.CheckoutInput{Plan: "pro", SuccessURL: "https://bravo.example.test/billing", CancelURL: "https://bravo.example.test/billing"})
	require.NoError(t, err)
	_, err = a.billing.ConnectOnboarding(inBravo, billing.OnboardingInput{RefreshURL: "https://bravo.example.test/billing", ReturnURL: "https://bravo.example.test/billing"})
	require.NoError(t, err)
	acc := billingOf(t, w.raw, w.bravo.ID)
	w.bravoCustomer, w.bravoAccount, w.bravoSub = acc.CustomerID, acc.ConnectAccountID, "sub_bravoSecretSubscription"
	created := time.Now().Add(-time.Minute)
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_bravoSub", "customer.subscription.created", created, "",
		subObject(w.bravoSub, w.bravoCustomer, "active", created.Add(30*24*time.Hour))), false))
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_bravoCard", "payment_method.attached", created, "",
		cardObject(w.bravoCustomer, "visa", "4242")), false))
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_bravoAcct", "account.updated", created, w.bravoAccount,
		accountObject(w.bravoAccount, true, true, true)), true))
}

// api builds the full API over the world's store with policy.
func (w *matrixWorld) api(policy *access.Policy) *matrixAPI { return w.apiOver(w.raw, policy) }

// apiOver builds the full API over store (the world's, or a wrapper of it)
// with policy; with billing when the world has it.
func (w *matrixWorld) apiOver(store ports.Store, policy *access.Policy) *matrixAPI {
	var bill *billing.Service
	if w.bill != nil {
		bill = w.bill.service(w.t, store, policy, w.clock)
	}
	return w.apiWith(store, policy, bill)
}

// apiWith builds the full API over store with policy, and with bill's
// routes unless bill is nil.
func (w *matrixWorld) apiWith(store ports.Store, policy *access.Policy, bill *billing.Service) *matrixAPI {
	t := w.t
	pp, err := passwordpolicy.New(passwordpolicy.Policy{})
	require.NoError(t, err)
	a := &matrixAPI{w: w}
	if w.kms == nil {
		w.kms, err = localkms.New(t.TempDir(), [][]byte{noise(32)})
		require.NoError(t, err)
	}
	a.auth, err = auth.New(auth.Deps{Store: store, Hasher: w.hasher, Policy: pp, Keys: w.keys, Mail: w.mailer.outbox, Clock: w.clock, Access: policy, FactorKeys: w.kms}, auth.Config{Limits: auth.Limits{PerAccount: 1 << 30, PerIP: 1 << 30}})
	require.NoError(t, err)
	a.files, err = storage.New(storage.Deps{Store: store, Objects: w.objects, Clock: w.clock, ContentKey: noise(32), Policy: policy})
	require.NoError(t, err)
	a.tenancy, err = tenancy.New(tenancy.Deps{Store: store, Auth: a.auth, Mail: w.mailer.outbox, Policy: policy, Clock: w.clock}, tenancy.Config{})
	require.NoError(t, err)
	a.links, err = capability.New(capability.Deps{Store: store, Kinds: []capability.Kind{storage.LinkKind(), quoteKind()}, Policy: policy, Clock: w.clock}, capability.Config{})
	require.NoError(t, err)
	a.billing = bill
	shops, err := httpapi.NewHostShops(w.raw, "https://example.test", w.clock)
	require.NoError(t, err)
	a.msg, err = messaging.New(messaging.Deps{Store: store, Policy: policy, Clock: w.clock}, messaging.Config{
		UnsubscribeKeys: [][]byte{w.unsubscribeKey}, EmailFrom: "Shop <no-reply@example.test>",
		UnsubscribeURL: func(shop ports.Shop, token string) string { return shops.URL(shop.Slug, "/u/"+token) },
	})
	require.NoError(t, err)
	a.hooks, err = webhooks.New(webhooks.Deps{Store: store, Keys: w.kms, Policy: policy, Clock: w.clock})
	require.NoError(t, err)
	a.scim, err = scim.New(scim.Deps{Store: store, Policy: policy, Clock: w.clock})
	require.NoError(t, err)
	exportKey, exportVKey, err := note.GenerateKey(rand.Reader, "matrix-audit")
	require.NoError(t, err)
	exportSigner, err := note.NewSigner(exportKey)
	require.NoError(t, err)
	exportVerifier, err := note.NewVerifier(exportVKey)
	require.NoError(t, err)
	exporter, err := export.New(export.Deps{Store: store, Files: a.files, Signer: exportSigner, Verifiers: note.VerifierList(exportVerifier), Policy: policy, Clock: w.clock})
	require.NoError(t, err)
	delivery, err := export.NewDelivery(export.DeliveryDeps{Exporter: exporter, Store: store, Objects: w.objects, LinkKeys: [][]byte{noise(32)},
		Policy: policy, Clock: w.clock}, export.DeliveryConfig{})
	require.NoError(t, err)
	var billingDeps *httpapi.BillingDeps
	if bill != nil {
		billingDeps = &httpapi.BillingDeps{Service: bill}
	}
	a.api = observe(httpapi.New(httpapi.Deps{
		Logger:  zapTo(io.MultiWriter(w.logs, w.canary)),
		Billing: billingDeps,
		Auth:    &httpapi.AuthDeps{Service: a.auth, Shops: shops},
		Files:   &httpapi.FilesDeps{Service: a.files},
		Tenancy: &httpapi.TenancyDeps{Service: a.tenancy},
		Audit:   &httpapi.AuditDeps{Reader: audit.NewReader(audit.ReaderDeps{Store: store, Policy: policy, Clock: w.clock}), Exporter: exporter, Delivery: delivery},
		Links:   &httpapi.LinksDeps{Service: a.links, Routes: quoteRoutes()},
		Messaging: &httpapi.MessagingDeps{Service: a.msg, WebhookBase: "https://hooks.example.test",
			Twilio: w.twilioHooks, Resend: w.resendHooks},
		Webhooks: &httpapi.WebhooksDeps{Service: a.hooks},
		SCIM:     &httpapi.SCIMDeps{Service: a.scim},
	}), w.canary)
	return a
}

// skipLeftOutBillingRoutes is for a test that enumerates the routes of
// the world's API: in a world without billing it names, in a skipped
// subtest "billing routes", the routes that pick keeps (nil: all) which
// the API would have with billing — the ones what (for example "the
// attack matrix on sqlite") left out — and it fails the test if a route
// other than billing's is missing. In a world with billing it does
// nothing.
func (w *matrixWorld) skipLeftOutBillingRoutes(t *testing.T, what string, pick func(httpapi.Route) bool) {
	t.Helper()
	if w.bill != nil {
		return
	}
	have := map[string]bool{}
	for _, r := range w.api(access.DefaultPolicy()).api.Routes() {
		have[r.Pattern()] = true
	}
	withBilling := w.apiWith(w.raw, access.DefaultPolicy(), unreachableBillingService(t, w.raw, access.DefaultPolicy(), w.clock))
	var left []string
	for _, r := range withBilling.api.Routes() {
		if have[r.Pattern()] {
			continue
		}
		path := strings.TrimPrefix(r.Path, httpapi.HQPrefix)
		require.True(t, strings.HasPrefix(path, "/billing") || strings.HasPrefix(path, "/webhooks/stripe"),
			"the world without billing lacks %s, which is not a billing route", r.Pattern())
		if pick == nil || pick(r) {
			left = append(left, r.Pattern())
		}
	}
	if len(left) == 0 {
		return
	}
	t.Run("billing routes", func(t *testing.T) {
		testinfra.SkipWithoutStripeMock(t, fmt.Sprintf("%s left out the %d billing routes %s, which the API has only with a billing service (on stripe-mock)",
			what, len(left), strings.Join(left, ", ")))
		t.Fatal("stripe-mock is available, yet the world was built without billing")
	})
}

// needBilling skips t — which uses the world's billing for what — when
// the world was built without billing (stripe-mock is not installed), or
// fails it under STOCKADE_REQUIRE_INTEGRATION=1.
func (w *matrixWorld) needBilling(t *testing.T, what string) {
	t.Helper()
	if w.bill != nil {
		return
	}
	testinfra.SkipWithoutStripeMock(t, what+" did not run")
	t.Fatal("stripe-mock is available, yet the world was built without billing")
}

// signIn signs email in on slug's host and returns the cookie and body.
func (w *matrixWorld) signIn(a *matrixAPI, slug, email string) (string, sessionJSON) {
	w.t.Helper()
	res := a.send(http.MethodPost, "/auth/signin", slug, "", credentials(email, matrixPassword), "application/json")
	raw := readBody(w.t, res)
	require.Equal(w.t, http.StatusOK, res.StatusCode, "sign-in of %s on %s: %s", email, slug, raw)
	var s sessionJSON
	require.NoError(w.t, json.Unmarshal([]byte(raw), &s))
	cookie := sessionCookie(w.t, res)
	w.canary.Secret("a session cookie", cookie)
	return cookie, s
}

// send runs one request on slug's host.
func (a *matrixAPI) send(method, target, slug, cookie, body, contentType string) *http.Response {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, target, rd)
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Host = slug + ".example.test"
	req.RemoteAddr = "192.0.2.77:5000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	return rec.Result()
}

// unique returns a fresh number for names that must not repeat.
func (w *matrixWorld) unique() int64 { return w.seq.Add(1) }

// alphaTargets creates fresh alpha resources for one request: a member to
// act on, a file, an invitation, a second session of the caller's, and
// returns them by path parameter name.
func (w *matrixWorld) alphaTargets(a *matrixAPI, caller ports.User, targetRole ports.Role) map[string]string {
	callerRole := ports.RoleViewer
	for r, u := range w.byRole {
		if u.ID == caller.ID {
			callerRole = r
		}
	}
	if caller.ID == w.orgOwner.ID {
		callerRole = ports.RoleOwner
	}
	t := w.t
	ctx := context.Background()
	n := w.unique()
	inAlpha := access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test")
	target, err := a.auth.CreateUser(ctx, fmt.Sprintf("target-%d@alpha.test", n), "Target", "")
	require.NoError(t, err)
	_, err = a.tenancy.AddMember(inAlpha, target.Email, targetRole)
	require.NoError(t, err)
	asOwner := access.With(ctx, access.Scope{Shop: w.alpha.ID, Org: w.alpha.OrgID, User: w.byRole[ports.RoleOwner].ID, Role: ports.RoleOwner})
	// The file is the caller's own when they may upload: only the
	// uploader may finalize.
	uploader := asOwner
	if access.DefaultPolicy().Allows(callerRole, access.FilesUpload) {
		uploader = access.With(ctx, access.Scope{Shop: w.alpha.ID, Org: w.alpha.OrgID, User: caller.ID, Role: callerRole})
	}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("a"), 200)...)
	f, err := a.files.Upload(uploader, storage.UploadInput{Kind: "document", Name: "alpha.pdf", Size: int64(len(pdf)), Body: bytes.NewReader(pdf)})
	require.NoError(t, err)
	inv, err := a.tenancy.Invite(asOwner, tenancy.InviteInput{Email: fmt.Sprintf("inv-%d@alpha.test", n), Role: ports.RoleTech, LinkPrefix: "https://alpha.example.test/invitations/accept?token="})
	require.NoError(t, err)
	_, other := w.signIn(a, "alpha", caller.Email)
	link, err := a.links.Mint(asOwner, capability.MintInput{RecordType: "file", RecordID: f.ID.String(), Actions: []string{"download"}})
	require.NoError(t, err)
	m, err := a.msg.Send(asOwner, messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryTransactional,
		To: messaging.Address{Email: fmt.Sprintf("contact-%d@alpha.test", n)}, Subject: "Hi", Body: "x"})
	require.NoError(t, err)
	hook, err := a.hooks.CreateEndpoint(asOwner, webhooks.EndpointInput{URL: fmt.Sprintf("https://alpha-%d.example.test/in", n), Events: []string{"*"}})
	require.NoError(t, err)
	// The passkey is the target's, never the caller's: a caller with a
	// passkey would have to step up before anything else is served.
	key := w.addPasskey(w.alpha.ID, target.ID, "Alpha key")
	sc := w.scimTargets(a, n)
	return map[string]string{
		"scim_token": sc.token, "scim_mapping": sc.mapping, "scim_user": sc.user, "scim_group": sc.group, "scim_bearer": sc.bearer,
		"passkey":  key.ID.String(),
		"endpoint": hook.Endpoint.ID.String(),
		"contact":  m.Contact.String(), "message": m.ID.String(),
		"link": link.Capability.ID.String(), "quote": fmt.Sprintf("Q-%d", n),
		"file": f.ID.String(), "user": target.ID.String(), "invitation": inv.ID.String(),
		"session": other.SessionID, "hq_shop": "bravo", "shop_slug": "charlie", "provider": "none", "domain": "alpha-matrix.test",
		"email": target.Email, "job": w.enqueueDead(w.alpha.ID, "alpha.job").String(),
	}
}

// fill replaces every {name} in path with params[name]; it fails the test
// for a parameter the matrix has no fixture for, so a new kind of
// resource cannot slip past the matrix unattacked.
func fill(t *testing.T, path string, params map[string]string) string {
	t.Helper()
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.IndexByte(path[i:], '}')
		require.Positive(t, j, "unbalanced pattern %q", path)
		name := strings.TrimSuffix(path[i+1:i+j], "...")
		v, ok := params[name]
		require.True(t, ok, "the attack matrix has no fixture for path parameter {%s} (route %q): add one to newMatrixWorld and alphaTargets", name, path)
		b.WriteString(path[:i])
		b.WriteString(v)
		path = path[i+j+1:]
	}
}

// restorePassword sets u's password back to matrixPassword (a matrix case
// may have changed it through POST /auth/password).
func (w *matrixWorld) restorePassword(a *matrixAPI, u ports.User) {
	w.t.Helper()
	_, err := a.auth.SetPassword(context.Background(), u.Email, matrixPassword)
	require.NoError(w.t, err)
}

// addPasskey stores a passkey of user in shop (fixture data: the matrix
// attacks the routes, it never verifies an assertion).
func (w *matrixWorld) addPasskey(shop ports.ShopID, user ports.UserID, name string) ports.Passkey {
	w.t.Helper()
	var k ports.Passkey
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		k, err = tx.Passkeys().Create(ctx, ports.Passkey{
			ID: ports.NewPasskeyID(), UserID: user, CredentialID: []byte("cred-" + ports.NewPasskeyID().String()), RPID: "matrix.example.test",
			PublicKey: []byte("not-a-cose-key"), Name: name,
		})
		return err
	})
	require.NoError(w.t, err)
	return k
}

// enqueueDead puts a job that has used up its attempts in shop's queue.
func (w *matrixWorld) enqueueDead(shop ports.ShopID, kind string) ports.JobID {
	w.t.Helper()
	id := ports.NewJobID()
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: id, Kind: kind, MaxAttempts: 1})
		return err
	})
	require.NoError(w.t, err)
	q, ok := w.raw.(ports.JobQueue)
	require.True(w.t, ok, "the store is a job queue")
	claimed, err := q.Claim(context.Background(), w.clock.Now().Add(time.Hour), 1000, time.Minute)
	require.NoError(w.t, err)
	for _, j := range claimed {
		err := w.raw.InShop(context.Background(), j.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Jobs().Fail(ctx, j.ID, j.Attempts, "boom", w.clock.Now(), true)
			return err
		})
		require.NoError(w.t, err)
	}
	return id
}
