package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

// hookRecorder is an event hook that keeps what it receives.
type hookRecorder struct {
	mu  sync.Mutex
	got []events.Event
}

func (r *hookRecorder) hook(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	return nil
}

// take returns what the hook received since the last take.
func (r *hookRecorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// delivery is one request a webhook receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// hookReceiver is an httptest webhook endpoint that answers 204.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) take() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// failingCommit runs each shop unit of work to its end and then fails it,
// as a failed commit would: whatever fn wrote, events included, rolls
// back.
type failingCommit struct {
	ports.Store
	err error
}

func (s failingCommit) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return s.err
	}, opts...)
}

// mailCatcher is an e-mail sender that keeps the messages.
type mailCatcher struct {
	mu  sync.Mutex
	got []ports.Email
}

func (m *mailCatcher) SendEmail(_ context.Context, e ports.Email) (ports.Sent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, e)
	return ports.Sent{ProviderID: "mail-" + e.IdempotencyKey}, nil
}

// eventsWorld is an embedded SQLite store with the services wired the
// plain way around one publisher whose hook records every event, a
// webhook service posting to loopback receivers (the delivery client is
// the guard's test hook: the default one refuses loopback addresses) and
// a job runner.
type eventsWorld struct {
	cfg    app.Config
	st     ports.Store
	pub    *publish.Publisher
	rec    *hookRecorder
	auth   *auth.Service
	ten    *tenancy.Service
	msg    *messaging.Service
	hooks  *webhooks.Service
	runner *jobs.Runner
}

func newEventsWorld(t *testing.T, client *http.Client) *eventsWorld {
	t.Helper()
	ctx := context.Background()
	w := &eventsWorld{cfg: app.Default(), rec: &hookRecorder{}}
	w.cfg.DataDir = t.TempDir()
	w.cfg.HTTP.PublicURL = "https://example.test"
	require.NoError(t, app.PrepareDataDir(w.cfg))
	w.st = openJobStore(t, w.cfg)
	w.pub = app.NewEvents(app.EventsParts{Hooks: []events.Hook{w.rec.hook}})
	var err error
	w.auth, err = app.NewAuth(ctx, w.cfg, app.AuthParts{Store: w.st, NoProviders: true, Events: w.pub})
	require.NoError(t, err)
	w.ten, err = app.NewTenancy(w.cfg, app.TenancyParts{Store: w.st, Auth: w.auth, Events: w.pub})
	require.NoError(t, err)
	w.msg, err = app.NewMessaging(w.cfg, app.MessagingParts{Store: w.st, Events: w.pub})
	require.NoError(t, err)
	w.runner, err = app.NewJobRunner(app.JobParts{Store: w.st}, jobs.Config{Backoff: func(int) time.Duration { return time.Hour }})
	require.NoError(t, err)
	keys, err := localkms.New(t.TempDir(), [][]byte{bytes.Repeat([]byte{9}, localkms.MinMasterKeyLen)})
	require.NoError(t, err)
	w.hooks, err = app.NewWebhooks(app.WebhooksParts{Store: w.st, Keys: keys, Client: client}, w.runner)
	require.NoError(t, err)
	return w
}

// deliverAll runs the job runner until no job is left to claim.
func (w *eventsWorld) deliverAll(t *testing.T) {
	t.Helper()
	for i := 0; i < 100; i++ {
		n, err := w.runner.RunOnce(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the job queue does not drain")
}

// shopWithOwner creates a user and, as the CLI does, an org whose first
// shop they own; it returns the owner's scope in that shop.
func (w *eventsWorld) shopWithOwner(t *testing.T, email, slug string) (context.Context, ports.User, ports.Shop) {
	t.Helper()
	ctx := context.Background()
	owner, err := w.auth.CreateUser(ctx, email, "Olive", "")
	require.NoError(t, err)
	_, shop, err := w.ten.CreateOrg(access.System(ctx, ports.ShopID{}, ports.OrgID{}, "test"), tenancy.NewOrg{Name: "Olive's", Slug: slug, Owner: owner.ID})
	require.NoError(t, err)
	as := access.With(ctx, access.Scope{Shop: shop.ID, Org: shop.OrgID, User: owner.ID, Role: ports.RoleOwner})
	return as, owner, shop
}

// withoutTime drops the events' times, which the test cannot know.
func withoutTime(t *testing.T, evs []events.Event) []events.Event {
	t.Helper()
	out := make([]events.Event, len(evs))
	for i, e := range evs {
		require.False(t, e.Time.IsZero(), "event %s has a time", e.Type)
		e.Time = time.Time{}
		out[i] = e
	}
	return out
}

var invitationToken = regexp.MustCompile(`token=([A-Za-z0-9_-]{16,})`)

// TestHooksSeeEachCommittedEventOnce runs the use cases that publish
// events on SQLite, wired without fx around one publisher: the hook
// receives each event once, in order, after its unit of work committed
// (a hook reading the store sees the change), and the shop's catch-all
// webhook endpoint receives the same events with the same data. Use
// cases that fail, or whose unit of work rolls back after the events
// were recorded, reach neither the hook nor the endpoint.
func TestHooksSeeEachCommittedEventOnce(t *testing.T) {
	rcv := newHookReceiver(t)
	w := newEventsWorld(t, rcv.srv.Client())
	ctx := context.Background()

	// A second hook reads the store: the change is committed, and the
	// hook's context is outside any unit of work.
	var seenErrs []error
	w.pub.Subscribe(events.On(func(ctx context.Context, e events.Event, m events.MemberAdded) error {
		shop, err := ports.ParseShopID(e.Shop)
		if err == nil {
			err = w.st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
				user, err := ports.ParseUserID(m.User)
				if err != nil {
					return err
				}
				_, err = tx.Memberships().Get(ctx, user)
				return err
			}, ports.ReadOnly())
		}
		seenErrs = append(seenErrs, err)
		return nil
	}))

	as, owner, shop := w.shopWithOwner(t, "olive@example.com", "olives")
	sid := shop.ID.String()
	require.Equal(t, []events.Event{
		{Type: events.TypeUserSignedUp, Data: events.UserSignedUp{User: owner.ID.String(), Email: "olive@example.com", Via: "operator"}},
		{Type: events.TypeShopCreated, Shop: sid, Data: events.ShopCreated{Org: shop.OrgID.String(), Slug: "olives", Name: "Olive's", Owner: owner.ID.String()}},
		{Type: events.TypeMemberAdded, Shop: sid, Data: events.MemberAdded{User: owner.ID.String(), Role: "owner", Via: "shop_created"}},
	}, withoutTime(t, w.rec.take()))

	c, err := w.hooks.CreateEndpoint(as, webhooks.EndpointInput{URL: rcv.srv.URL + "/all", Events: []string{"*"}})
	require.NoError(t, err)

	tech, err := w.auth.CreateUser(ctx, "tess@example.com", "Tess", "")
	require.NoError(t, err)
	_, err = w.ten.AddMember(as, "tess@example.com", ports.RoleTech)
	require.NoError(t, err)
	_, err = w.ten.ChangeRole(as, tech.ID, ports.RoleSales)
	require.NoError(t, err)
	_, err = w.ten.Rename(as, "Olive's Plumbing")
	require.NoError(t, err)
	_, err = w.ten.SetShopStatus(as, "olives", ports.ShopSuspended)
	require.NoError(t, err)
	_, err = w.ten.SetShopStatus(as, "olives", ports.ShopActive)
	require.NoError(t, err)

	// An invitation, accepted by an address without an account.
	inv, err := w.ten.Invite(as, tenancy.InviteInput{Email: "nia@example.com", Role: ports.RoleViewer,
		LinkPrefix: "https://olives.example.test/invitations/accept?token=", ShopName: "Olive's"})
	require.NoError(t, err)
	outbox, err := app.NewAuthMailOutbox(w.cfg)
	require.NoError(t, err)
	mail := &mailCatcher{}
	worker, err := app.NewAuthMailWorker(w.cfg, app.AuthMailParts{Outbox: outbox, Store: w.st, Sender: mail}, authmail.WorkerConfig{})
	require.NoError(t, err)
	_, err = worker.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, mail.got, 1)
	token := invitationToken.FindStringSubmatch(mail.got[0].Text)
	require.NotNil(t, token, "the invitation mail carries its link")
	_, err = w.ten.AcceptInvitation(ctx, tenancy.AcceptInput{Shop: shop.ID, Token: token[1], Name: "Nia"})
	require.NoError(t, err)
	nia, err := w.auth.UserByEmail(ctx, "nia@example.com")
	require.NoError(t, err)

	// An owner signs the new member out; the member leaves later.
	n, err := w.auth.RevokeMemberSessions(as, auth.Principal{Shop: shop.ID, User: owner.ID, Role: ports.RoleOwner}, nia.ID, auth.Client{})
	require.NoError(t, err)
	require.Equal(t, 1, n, "the invitation signed Nia in")
	niaCtx := access.With(ctx, access.Scope{Shop: shop.ID, Org: shop.OrgID, User: nia.ID, Role: ports.RoleViewer})
	require.NoError(t, w.ten.RemoveMember(niaCtx, nia.ID))
	require.NoError(t, w.ten.RemoveMember(as, tech.ID))

	// A contact withdraws marketing, set by an admin.
	var contact ports.Contact
	require.NoError(t, w.st.InShop(as, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		contact, err = w.msg.SaveContact(ctx, tx, messaging.Address{Email: "carl@example.com"})
		return err
	}))
	_, err = w.msg.SetConsent(as, messaging.ConsentChange{Contact: contact.ID, Topic: ports.TopicMarketing, OptedOut: true, Source: ports.SourceAdmin})
	require.NoError(t, err)

	shopEvents := []events.Event{
		{Type: events.TypeMemberAdded, Shop: sid, Data: events.MemberAdded{User: tech.ID.String(), Role: "tech", Via: "direct"}},
		{Type: events.TypeMemberRoleChanged, Shop: sid, Data: events.MemberRoleChanged{User: tech.ID.String(), Role: "sales", PreviousRole: "tech"}},
		{Type: events.TypeShopRenamed, Shop: sid, Data: events.ShopRenamed{Name: "Olive's Plumbing", PreviousName: "Olive's"}},
		{Type: events.TypeShopSuspended, Shop: sid, Data: events.ShopSuspended{Slug: "olives"}},
		{Type: events.TypeShopReactivated, Shop: sid, Data: events.ShopReactivated{Slug: "olives"}},
		{Type: events.TypeInvitationAccepted, Shop: sid, Data: events.InvitationAccepted{Invitation: inv.ID.String(), User: nia.ID.String(), Role: "viewer"}},
		{Type: events.TypeMemberAdded, Shop: sid, Data: events.MemberAdded{User: nia.ID.String(), Role: "viewer", Via: "invitation"}},
		{Type: events.TypeSessionRevoked, Shop: sid, Data: events.SessionRevoked{User: nia.ID.String(), Count: 1, By: "admin"}},
		{Type: events.TypeMemberRemoved, Shop: sid, Data: events.MemberRemoved{User: nia.ID.String(), Role: "viewer", Left: true}},
		{Type: events.TypeMemberRemoved, Shop: sid, Data: events.MemberRemoved{User: tech.ID.String(), Role: "sales"}},
		{Type: events.TypeConsentChanged, Shop: sid, Data: events.ConsentChanged{Contact: contact.ID.String(), Topic: "marketing", OptedOut: true, Source: "admin", Via: "admin"}},
	}
	want := []events.Event{
		{Type: events.TypeUserSignedUp, Data: events.UserSignedUp{User: tech.ID.String(), Email: "tess@example.com", Via: "operator"}},
		shopEvents[0], shopEvents[1], shopEvents[2], shopEvents[3], shopEvents[4],
		{Type: events.TypeUserSignedUp, Data: events.UserSignedUp{User: nia.ID.String(), Email: "nia@example.com", Via: "invitation"}},
	}
	want = append(want, shopEvents[5:]...)
	assert.Equal(t, want, withoutTime(t, w.rec.take()))
	for i, err := range seenErrs {
		assert.NoError(t, err, "member.added %d: the hook sees the committed membership", i)
	}
	assert.Len(t, seenErrs, 3, "the first owner's, Tess's and Nia's")

	// The catch-all endpoint gets the same shop events, signed, with the
	// hooks' payloads as their data (the endpoint was created after the
	// shop, so shop.created never had an endpoint to go to).
	w.deliverAll(t)
	got := rcv.take()
	require.Len(t, got, len(shopEvents))
	v := sig.Verifier{Secret: c.Secret}
	delivered := map[string][]string{}
	for _, d := range got {
		require.NoError(t, v.Verify(d.header, d.body))
		var body webhooks.Event
		require.NoError(t, json.Unmarshal(d.body, &body))
		assert.Equal(t, sid, body.Shop)
		delivered[body.Type] = append(delivered[body.Type], string(body.Data))
	}
	expected := map[string][]string{}
	for _, e := range shopEvents {
		b, err := json.Marshal(e.Data)
		require.NoError(t, err)
		expected[string(e.Type)] = append(expected[string(e.Type)], string(b))
	}
	for typ, datas := range expected {
		assert.ElementsMatch(t, datas, delivered[typ], typ)
	}

	// A session of the owner's, for a revocation below to revoke (issuing
	// one publishes nothing).
	require.NoError(t, w.st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := w.auth.IssueSession(ctx, tx, owner.ID, "test", auth.Client{}, "")
		return err
	}))

	// Failures publish nothing: refused use cases ...
	_, err = w.ten.AddMember(as, "olive@example.com", ports.RoleTech)
	require.ErrorIs(t, err, ports.ErrConflict)
	_, err = w.ten.ChangeRole(as, owner.ID, ports.RoleAdmin)
	require.ErrorIs(t, err, ports.ErrLastOwner)
	_, err = w.ten.Rename(access.With(ctx, access.Scope{Shop: shop.ID, Org: shop.OrgID, User: nia.ID, Role: ports.RoleViewer}), "Mine")
	require.ErrorIs(t, err, ports.ErrForbidden)

	// ... and units of work that roll back after recording their events.
	boom := errors.New("commit failed")
	broken := failingCommit{Store: w.st, err: boom}
	ten, err := app.NewTenancy(w.cfg, app.TenancyParts{Store: broken, Auth: w.auth, Events: w.pub})
	require.NoError(t, err)
	au, err := app.NewAuth(ctx, w.cfg, app.AuthParts{Store: broken, NoProviders: true, Events: w.pub})
	require.NoError(t, err)
	msg, err := app.NewMessaging(w.cfg, app.MessagingParts{Store: broken, Events: w.pub})
	require.NoError(t, err)
	_, err = ten.AddMember(as, "tess@example.com", ports.RoleTech)
	require.ErrorIs(t, err, boom)
	_, err = ten.Rename(as, "Rolled Back")
	require.ErrorIs(t, err, boom)
	_, err = ten.SetShopStatus(as, "olives", ports.ShopSuspended)
	require.ErrorIs(t, err, boom)
	_, err = ten.ChangeRole(as, owner.ID, ports.RoleOwner)
	require.ErrorIs(t, err, boom)
	_, _, err = ten.CreateOrg(access.System(ctx, ports.ShopID{}, ports.OrgID{}, "test"), tenancy.NewOrg{Name: "Half", Slug: "half", Owner: owner.ID})
	require.ErrorIs(t, err, boom, "the directory rows commit, the shop's seeding does not")
	_, err = au.RevokeMemberSessions(as, auth.Principal{Shop: shop.ID, User: owner.ID, Role: ports.RoleOwner}, owner.ID, auth.Client{})
	require.ErrorIs(t, err, boom, "a session to revoke, and the revocation rolls back")
	_, err = msg.SetConsent(as, messaging.ConsentChange{Contact: contact.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceAdmin})
	require.ErrorIs(t, err, boom)

	assert.Empty(t, w.rec.take(), "no hook ran for a failed or rolled-back use case")
	w.deliverAll(t)
	assert.Empty(t, rcv.take(), "no webhook was enqueued for them")
}

// TestMemberAddedWebhookArrivesOnceSignedAndVerifies is the end-to-end
// path of an outbound webhook on SQLite: AddMember commits the membership
// and the delivery job together, the job runner posts it once to the
// endpoint that asked for member.added (and nothing else the use cases
// did), and the shipped webhooks.Verifier accepts it, refuses it forged
// or signed with another secret, and refuses its replay both inside the
// tolerance (by webhook-id) and after it (by timestamp). A membership
// whose unit of work rolls back sends nothing.
func TestMemberAddedWebhookArrivesOnceSignedAndVerifies(t *testing.T) {
	rcv := newHookReceiver(t)
	w := newEventsWorld(t, rcv.srv.Client())
	ctx := context.Background()
	as, _, shop := w.shopWithOwner(t, "olive@example.com", "olives")
	c, err := w.hooks.CreateEndpoint(as, webhooks.EndpointInput{URL: rcv.srv.URL + "/members?token=in-the-url", Events: []string{"member.added"}})
	require.NoError(t, err)

	tess, err := w.auth.CreateUser(ctx, "tess@example.com", "Tess", "")
	require.NoError(t, err)
	_, err = w.auth.CreateUser(ctx, "rolf@example.com", "Rolf", "")
	require.NoError(t, err)
	ten, err := app.NewTenancy(w.cfg, app.TenancyParts{Store: failingCommit{Store: w.st, err: errors.New("rolled back")}, Auth: w.auth, Events: w.pub})
	require.NoError(t, err)
	_, err = ten.AddMember(as, "rolf@example.com", ports.RoleTech)
	require.Error(t, err)
	_, err = w.ten.AddMember(as, "tess@example.com", ports.RoleTech)
	require.NoError(t, err)
	_, err = w.ten.Rename(as, "Not a member event")
	require.NoError(t, err)

	w.deliverAll(t)
	got := rcv.take()
	require.Len(t, got, 1, "one delivery: the committed member.added")
	d := got[0]
	var body webhooks.Event
	require.NoError(t, json.Unmarshal(d.body, &body))
	assert.Equal(t, "member.added", body.Type)
	assert.Equal(t, shop.ID.String(), body.Shop)
	assert.JSONEq(t, `{"user":"`+tess.ID.String()+`","role":"tech","via":"direct"}`, string(body.Data))
	assert.WithinDuration(t, time.Now(), body.Timestamp, time.Minute)
	assert.Regexp(t, `^msg_`, d.header.Get(sig.HeaderID))

	var mu sync.Mutex
	seen := map[string]bool{}
	v := sig.Verifier{Secret: c.Secret, Seen: func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		was := seen[id]
		seen[id] = true
		return was
	}}
	require.NoError(t, v.Verify(d.header, d.body), "signed with the endpoint's secret")
	// Forged: the body altered under the same headers, or signed with
	// another secret.
	assert.ErrorIs(t, v.Verify(d.header, bytes.Replace(d.body, []byte(`"tech"`), []byte(`"owner"`), 1)), sig.ErrNoMatchingSignature)
	forger := sig.Verifier{Secret: sig.FormatSecret(bytes.Repeat([]byte{7}, webhooks.SecretLen))}
	assert.ErrorIs(t, forger.Verify(d.header, d.body), sig.ErrNoMatchingSignature)
	forged := d.header.Clone()
	forged.Set(sig.HeaderTimestamp, "1")
	assert.ErrorIs(t, v.Verify(forged, d.body), sig.ErrNoMatchingSignature, "a re-dated copy: the timestamp is signed")
	// Replayed: inside the tolerance the receiver knows the id; after it
	// the timestamp is too old, even without Seen.
	assert.ErrorIs(t, v.Verify(d.header, d.body), sig.ErrReplayed)
	late := sig.Verifier{Secret: c.Secret, Now: func() time.Time { return time.Now().Add(sig.DefaultTolerance + time.Minute) }}
	assert.ErrorIs(t, late.Verify(d.header, d.body), sig.ErrTimestampOutOfTolerance)

	w.deliverAll(t)
	assert.Empty(t, rcv.take(), "delivered once")
}

// fakeStripeWebhooks hands HandleWebhook one decoded event, as a
// verified provider webhook would.
type fakeStripeWebhooks struct{ ev ports.BillingEvent }

func (f fakeStripeWebhooks) VerifyEvent(context.Context, ports.BillingEndpoint, []byte, string) (ports.BillingEvent, error) {
	return f.ev, nil
}

// noStripe is a billing provider the webhook path never calls.
type noStripe struct{ ports.Billing }

// TestSubscriptionChangePublishesOnce: a verified subscription webhook
// publishes subscription.changed once (hook and endpoint); its replay,
// recognised by event ID, publishes nothing.
func TestSubscriptionChangePublishesOnce(t *testing.T) {
	rcv := newHookReceiver(t)
	w := newEventsWorld(t, rcv.srv.Client())
	ctx := context.Background()
	as, _, shop := w.shopWithOwner(t, "olive@example.com", "olives")
	w.rec.take()
	require.NoError(t, w.st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Billing().LinkCustomer(ctx, "cus_Olive1")
		return err
	}))
	c, err := w.hooks.CreateEndpoint(as, webhooks.EndpointInput{URL: rcv.srv.URL + "/billing", Events: []string{"subscription.changed"}})
	require.NoError(t, err)
	end := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	ev := ports.BillingEvent{ID: "evt_Sub1", Type: "customer.subscription.updated", Created: time.Now().Add(-time.Minute).UTC().Truncate(time.Second),
		Subscription: &ports.SubscriptionState{ID: "sub_Olive1", CustomerID: "cus_Olive1", Status: ports.SubscriptionActive,
			PriceID: "price_Pro1", CurrentPeriodEnd: end, AsOf: time.Now().Add(-time.Minute).UTC().Truncate(time.Second)}}
	cfg := w.cfg
	cfg.Stripe.Plans = "pro=price_Pro1"
	bill, err := app.NewBilling(cfg, app.BillingParts{Store: w.st, Provider: noStripe{}, Webhooks: fakeStripeWebhooks{ev}, Events: w.pub})
	require.NoError(t, err)

	for i, want := range []billing.Outcome{billing.OutcomeApplied, billing.OutcomeDuplicate} {
		res, err := bill.HandleWebhook(ctx, billing.WebhookInput{Endpoint: ports.EndpointPlatform, Payload: []byte("{}"), Signature: "t=1,v1=x"})
		require.NoError(t, err)
		require.Equal(t, want, res.Outcome, "attempt %d", i+1)
	}
	data := events.SubscriptionChanged{Subscription: "sub_Olive1", Status: "active", Price: "price_Pro1", Plan: "pro",
		CurrentPeriodEnd: end, Source: "webhook"}
	assert.Equal(t, []events.Event{{Type: events.TypeSubscriptionChanged, Shop: shop.ID.String(), Data: data}}, withoutTime(t, w.rec.take()))

	w.deliverAll(t)
	got := rcv.take()
	require.Len(t, got, 1)
	require.NoError(t, (sig.Verifier{Secret: c.Secret}).Verify(got[0].header, got[0].body))
	var body webhooks.Event
	require.NoError(t, json.Unmarshal(got[0].body, &body))
	b, err := json.Marshal(data)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(body.Data))
}

// TestAppRunsEventHooks: under fx, hooks supplied with app.EventHook and
// hooks built by constructors in app.EventHooksGroup (which may depend on
// Stockade's services) all receive the events of the default assembly's
// services.
func TestAppRunsEventHooks(t *testing.T) {
	supplied, built := &hookRecorder{}, &hookRecorder{}
	var (
		svc *auth.Service
		ten *tenancy.Service
	)
	a := app.New(fxConfig(t),
		app.EventHook(supplied.hook),
		fx.Provide(fx.Annotate(func(ten *tenancy.Service) events.Hook {
			require.NotNil(t, ten)
			return built.hook
		}, fx.ResultTags(`group:"`+app.EventHooksGroup+`"`))),
		fx.Populate(&svc, &ten),
	)
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()

	u, err := svc.CreateUser(ctx, "fx@example.com", "Fx", "")
	require.NoError(t, err)
	_, shop, err := ten.CreateOrg(access.System(ctx, ports.ShopID{}, ports.OrgID{}, "test"), tenancy.NewOrg{Name: "Fx", Slug: "fx-shop"})
	require.NoError(t, err)
	want := []events.Event{
		{Type: events.TypeUserSignedUp, Data: events.UserSignedUp{User: u.ID.String(), Email: "fx@example.com", Via: "operator"}},
		{Type: events.TypeShopCreated, Shop: shop.ID.String(), Data: events.ShopCreated{Org: shop.OrgID.String(), Slug: "fx-shop", Name: "Fx"}},
	}
	assert.Equal(t, want, withoutTime(t, supplied.take()))
	assert.Equal(t, want, withoutTime(t, built.take()))
}
