package httpapi_test

// The harness for the authentication attack tests: real parts throughout
// (a migrated SQLite file, the Argon2id hasher at its cheapest accepted
// parameters, the shipped password policy, a real keyring, the real
// handler), a clock the test moves by hand, and a store wrapper that
// counts every round trip the auth service makes, so "refused before any
// database query" is a number, not a hope.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/auth/passwordpolicy"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// cheapParams are the cheapest Argon2id parameters passhash accepts for new
// hashes (its floor: 7168 KiB with memory×time ≥ 7168×5).
var cheapParams = passhash.Params{Memory: 7168, Time: 5, Threads: 1}

// Passwords of the fixture users; none is on the common list.
const (
	annPassword  = "ann-Owner-lantern-42"
	tomPassword  = "tom-Tech-ladder-1977"
	noraPassword = "nora-Outsider-kettle-8"
)

// manualClock is a ports.Clock that moves only when the test says so.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// counts are the round trips the auth service made through countingStore.
type counts struct {
	InShop, Global, Resolve, Touch int64
}

// Total is every unit of work and lookup, touches excluded (a touch runs
// inside an InShop, which is counted).
func (c counts) Total() int64 { return c.InShop + c.Global + c.Resolve }

// countingStore is a ports.Store and ports.SessionResolver that delegates
// to a real store and counts what it is asked to do.
type countingStore struct {
	inner   rawStore
	inShop  atomic.Int64
	global  atomic.Int64
	resolve atomic.Int64
	touch   atomic.Int64
}

var (
	_ ports.Store           = (*countingStore)(nil)
	_ ports.SessionResolver = (*countingStore)(nil)
)

func (s *countingStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	s.inShop.Add(1)
	return s.inner.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, countingShopTx{ShopTx: tx, touch: &s.touch})
	}, opts...)
}

func (s *countingStore) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	s.global.Add(1)
	return s.inner.Global(ctx, fn, opts...)
}

func (s *countingStore) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	s.resolve.Add(1)
	return s.inner.ResolveSession(ctx, shop, id)
}

func (s *countingStore) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }
func (s *countingStore) Close() error                   { return nil } // the harness closes inner

func (s *countingStore) snapshot() counts {
	return counts{InShop: s.inShop.Load(), Global: s.global.Load(), Resolve: s.resolve.Load(), Touch: s.touch.Load()}
}

func (s *countingStore) reset() {
	s.inShop.Store(0)
	s.global.Store(0)
	s.resolve.Store(0)
	s.touch.Store(0)
}

type countingShopTx struct {
	ports.ShopTx
	touch *atomic.Int64
}

func (t countingShopTx) Sessions() ports.SessionRepo {
	return countingSessions{SessionRepo: t.ShopTx.Sessions(), touch: t.touch}
}

type countingSessions struct {
	ports.SessionRepo
	touch *atomic.Int64
}

func (r countingSessions) Touch(ctx context.Context, id ports.SessionID, at time.Time) error {
	r.touch.Add(1)
	return r.SessionRepo.Touch(ctx, id, at)
}

// recordingMailer is the auth mail outbox of a harness and its delivery
// to the test: messages drains the store's queued auth mail (claims it,
// opens it, marks it sent) and keeps what it delivered.
type recordingMailer struct {
	t      testing.TB
	outbox *authmail.Outbox
	mu     sync.Mutex
	queue  ports.AuthMailOutbox
	now    func() time.Time
	sent   []ports.Mail
	// canary, when set, learns every link token delivered.
	canary *canary.Sink
}

// linkTokens finds the tokens of mailed links.
var linkTokens = regexp.MustCompile(`token=([A-Za-z0-9_-]{16,})`)

func newRecordingMailer(t testing.TB) *recordingMailer {
	o, err := authmail.New(authmail.Key{ID: "mail", Secret: []byte("a test auth mail key of 32 bytes")})
	require.NoError(t, err)
	return &recordingMailer{t: t, outbox: o}
}

// deliverFrom names the store whose queued auth mail messages delivers,
// and its clock.
func (m *recordingMailer) deliverFrom(store ports.Store, now func() time.Time) {
	q, ok := store.(ports.AuthMailOutbox)
	require.True(m.t, ok, "%T has no auth mail outbox", store)
	m.queue, m.now = q, now
}

func (m *recordingMailer) messages() []ports.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	ctx := context.Background()
	for {
		due, err := m.queue.ClaimAuthMail(ctx, m.now(), 1000, time.Minute)
		require.NoError(m.t, err)
		if len(due) == 0 {
			break
		}
		for _, am := range due {
			mail, err := m.outbox.Open(am)
			require.NoError(m.t, err)
			_, err = m.queue.MarkAuthMailSent(ctx, am, "test")
			require.NoError(m.t, err)
			m.sent = append(m.sent, mail)
			if m.canary != nil {
				for _, tok := range linkTokens.FindAllStringSubmatch(mail.Text, -1) {
					m.canary.Secret("a mailed link token", tok[1])
				}
			}
		}
	}
	return append([]ports.Mail(nil), m.sent...)
}

// lastLink returns the sign-in link in the last message and its token.
func (m *recordingMailer) lastLink(t testing.TB) (link *url.URL, token string) {
	t.Helper()
	msgs := m.messages()
	require.NotEmpty(t, msgs, "no mail was sent")
	text := msgs[len(msgs)-1].Text
	for _, field := range strings.Fields(text) {
		if strings.HasPrefix(field, "https://") {
			u, err := url.Parse(field)
			require.NoError(t, err)
			return u, u.Query().Get("token")
		}
	}
	t.Fatalf("no link in mail %q", text)
	return nil, ""
}

// harness is one fresh world: a store with two shops of one org, three
// users, the auth service and the HTTP handler over them.
type harness struct {
	t       testing.TB
	clock   *manualClock
	raw     rawStore
	countDB *sqlx.DB // sees every row of every table, for counting
	store   *countingStore
	hasher  *passhash.Hasher
	svc     *auth.Service
	mailer  *recordingMailer
	handler http.Handler
	// canary fails the test if a password, session cookie or mailed link
	// token of the harness appears in a log line or a problem body.
	canary *canary.Sink
	keyID  string
	secret []byte

	acme, bolt ports.Shop
	// ann owns acme and bolt; tom is a tech in acme; nora is a member of
	// no shop.
	ann, tom, nora ports.User
}

type harnessOptions struct {
	cfg       auth.Config
	params    passhash.Params
	providers []ports.IdentityProvider
	hasher    func(*passhash.Hasher) ports.PasswordHasher
	postgres  bool
	sso       auth.SSOProviderFunc
	dns       ports.DNSResolver
}

// rawStore is what both SQL adapters' stores are.
type rawStore interface {
	ports.Store
	ports.SessionResolver
}

// onPostgres runs the harness on a fresh Postgres database (application
// role, RLS on) instead of SQLite.
func onPostgres() harnessOption {
	return func(o *harnessOptions) { o.postgres = true }
}

type harnessOption func(*harnessOptions)

func withConfig(cfg auth.Config) harnessOption {
	return func(o *harnessOptions) { o.cfg = cfg }
}

func withParams(p passhash.Params) harnessOption {
	return func(o *harnessOptions) { o.params = p }
}

func withProviders(p ...ports.IdentityProvider) harnessOption {
	return func(o *harnessOptions) { o.providers = p }
}

// withSSO gives the auth service an SSO provider factory and a DNS
// resolver (AUTH-14).
func withSSO(f auth.SSOProviderFunc, dns ports.DNSResolver) harnessOption {
	return func(o *harnessOptions) { o.sso, o.dns = f, dns }
}

// withHasher lets a test put a wrapper around the real hasher.
func withHasher(wrap func(*passhash.Hasher) ports.PasswordHasher) harnessOption {
	return func(o *harnessOptions) { o.hasher = wrap }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	o := harnessOptions{params: cheapParams}
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	clock := newManualClock()
	var raw rawStore
	var countDB *sqlx.DB
	if o.postgres {
		pg := testinfra.StartPostgres(t)
		_, err := postgres.Migrate(ctx, pg.OwnerURL)
		require.NoError(t, err)
		st, err := postgres.Open(ctx, pg.AppURL, postgres.WithClock(clock))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		countDB, err = sqlx.Open("pgx", pg.SuperURL)
		require.NoError(t, err)
		t.Cleanup(func() { countDB.Close() })
		raw = st
	} else {
		dbURL := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
		_, err := sqlite.Migrate(ctx, dbURL)
		require.NoError(t, err)
		st, err := sqlite.Open(ctx, dbURL, sqlite.WithClock(clock))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		raw, countDB = st, st.DB()
	}

	hasher, err := passhash.New(passhash.Config{Params: o.params})
	require.NoError(t, err)
	var ph ports.PasswordHasher = hasher
	if o.hasher != nil {
		ph = o.hasher(hasher)
	}
	policy, err := passwordpolicy.New(passwordpolicy.Policy{})
	require.NoError(t, err)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := auth.NewKeyring(auth.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)

	h := &harness{t: t, clock: clock, raw: raw, countDB: countDB, store: &countingStore{inner: raw}, hasher: hasher, mailer: newRecordingMailer(t), keyID: "k1", secret: secret}
	factorKeys, err := localkms.New(t.TempDir(), [][]byte{secret})
	require.NoError(t, err)
	h.svc, err = auth.New(auth.Deps{
		Store: h.store, Hasher: ph, Policy: policy, Keys: keys, Mail: h.mailer.outbox,
		Providers: o.providers, Clock: clock, FactorKeys: factorKeys, SSOProviders: o.sso, DNS: o.dns,
	}, o.cfg)
	h.mailer.deliverFrom(raw, clock.Now)
	h.canary = canary.New(t)
	h.mailer.canary = h.canary
	for name, pw := range map[string]string{"ann's password": annPassword, "tom's password": tomPassword, "nora's password": noraPassword} {
		h.canary.Secret(name, pw)
	}
	require.NoError(t, err)

	// The host resolver reads the shop directory through the raw store:
	// the counts are the auth service's alone.
	shops, err := httpapi.NewHostShops(raw, "https://example.test", clock)
	require.NoError(t, err)
	h.handler = httpapi.NewHandler(httpapi.Deps{Logger: zapTo(h.canary), Auth: &httpapi.AuthDeps{Service: h.svc, Shops: shops}})

	org := ports.Org{ID: ports.NewOrgID(), Name: "Acme Holdings"}
	h.acme = ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "acme", Name: "Acme Plumbing", Status: ports.ShopActive}
	h.bolt = ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "bolt", Name: "Bolt Electric", Status: ports.ShopActive}
	require.NoError(t, raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.Orgs().Create(ctx, org); err != nil {
			return err
		}
		if _, err := tx.Shops().Create(ctx, h.acme); err != nil {
			return err
		}
		_, err := tx.Shops().Create(ctx, h.bolt)
		return err
	}))
	h.ann = h.createUser("ann@example.test", "Ann Owner", annPassword)
	h.tom = h.createUser("tom@example.test", "Tom Tech", tomPassword)
	h.nora = h.createUser("nora@example.test", "Nora Outsider", noraPassword)
	h.addMember(h.acme, h.ann, ports.RoleOwner)
	h.addMember(h.bolt, h.ann, ports.RoleOwner)
	h.addMember(h.acme, h.tom, ports.RoleTech)
	h.store.reset()
	return h
}

func (h *harness) createUser(email, name, password string) ports.User {
	h.t.Helper()
	u, err := h.svc.CreateUser(context.Background(), email, name, password)
	require.NoError(h.t, err)
	return u
}

func (h *harness) addMember(shop ports.Shop, u ports.User, role ports.Role) {
	h.t.Helper()
	require.NoError(h.t, h.raw.InShop(context.Background(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, role)
		return err
	}))
}

// storedHash reads a user's password hash straight from the store.
func (h *harness) storedHash(u ports.User) string {
	h.t.Helper()
	var hash string
	require.NoError(h.t, h.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		hash, err = tx.Passwords().Get(ctx, u.ID)
		return err
	}))
	return hash
}

func (h *harness) setHash(u ports.User, hash string) {
	h.t.Helper()
	require.NoError(h.t, h.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.Passwords().Set(ctx, u.ID, hash)
	}))
}

// auditLog returns a shop's whole audit log.
func (h *harness) auditLog(shop ports.Shop) []ports.AuditEvent {
	h.t.Helper()
	var out []ports.AuditEvent
	require.NoError(h.t, h.raw.InShop(context.Background(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		return err
	}, ports.ReadOnly()))
	return out
}

// events returns the audit events of shop with action.
func (h *harness) events(shop ports.Shop, action string) []ports.AuditEvent {
	h.t.Helper()
	var out []ports.AuditEvent
	for _, e := range h.auditLog(shop) {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// countRows counts a table's rows with SQL, for "nothing was written".
func (h *harness) countRows(table string) int {
	h.t.Helper()
	var n int
	require.NoError(h.t, h.countDB.Get(&n, "SELECT count(*) FROM "+table))
	return n
}

// call is one HTTP request to the handler.
type call struct {
	method string
	path   string // path and query
	host   string // default "acme.example.test"
	body   string
	// contentType defaults to application/json when body is set.
	contentType string
	cookie      string // session cookie value, if any
	cookies     []*http.Cookie
	header      http.Header
	remote      string // client address, default 192.0.2.10:5000
}

// serve runs c through the handler in-process and returns the answer.
func (h *harness) serve(c call) *http.Response {
	h.t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	req.Host = "acme.example.test"
	if c.host != "" {
		req.Host = c.host
	}
	req.RemoteAddr = "192.0.2.10:5000"
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	switch {
	case c.contentType != "":
		req.Header.Set("Content-Type", c.contentType)
	case c.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: c.cookie})
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	seenProblem(h.canary, c.method+" "+c.path, rec)
	return rec.Result()
}

// seenProblem hands a problem answer's body to the canary sink.
func seenProblem(s *canary.Sink, where string, rec *httptest.ResponseRecorder) {
	if s != nil && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		s.Seen("problem body of "+where, rec.Body.String())
	}
}

// signIn signs a user in over HTTP on host and returns the session cookie
// value and the answer's session body.
func (h *harness) signIn(host, email, password string, extra ...func(*call)) (string, sessionJSON) {
	h.t.Helper()
	c := call{method: http.MethodPost, path: "/auth/signin", host: host, body: credentials(email, password)}
	for _, f := range extra {
		f(&c)
	}
	res := h.serve(c)
	raw := readBody(h.t, res)
	require.Equal(h.t, http.StatusOK, res.StatusCode, "sign-in of %s on %s: %s", email, host, raw)
	for _, ck := range res.Cookies() {
		if ck.Name == auth.SessionCookieName && ck.Value != "" {
			h.canary.Secret("a session cookie", ck.Value)
		}
	}
	var s sessionJSON
	require.NoError(h.t, json.Unmarshal([]byte(raw), &s))
	return sessionCookie(h.t, res), s
}

// me asks GET /auth/me with cookie on host and returns the status.
func (h *harness) me(host, cookie string) int {
	h.t.Helper()
	res := h.serve(call{method: http.MethodGet, path: "/auth/me", host: host, cookie: cookie})
	return res.StatusCode
}

// sessionJSON is the answer to a sign-in.
type sessionJSON struct {
	UserID    string    `json:"user_id"`
	ShopID    string    `json:"shop_id"`
	Role      string    `json:"role"`
	SessionID string    `json:"session_id"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
}

type problemJSON struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func credentials(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

func readBody(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func decodeBody(t testing.TB, res *http.Response, v any) {
	t.Helper()
	require.NoError(t, json.NewDecoder(res.Body).Decode(v))
}

// problemOf checks that res is a problem answer with status and returns it.
func problemOf(t testing.TB, res *http.Response, status int) problemJSON {
	t.Helper()
	raw := readBody(t, res)
	require.Equal(t, status, res.StatusCode, "body: %s", raw)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "body: %s", raw)
	noInternals(t, "problem", raw)
	var p problemJSON
	require.NoError(t, json.Unmarshal([]byte(raw), &p))
	require.Equal(t, status, p.Status)
	return p
}

// setCookie returns the Set-Cookie of res named name, failing without one.
func setCookie(t testing.TB, res *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, res.Header.Values("Set-Cookie"))
	return nil
}

func sessionCookie(t testing.TB, res *http.Response) string {
	t.Helper()
	c := setCookie(t, res, auth.SessionCookieName)
	require.NotEmpty(t, c.Value)
	return c.Value
}

// cookieParts splits a session cookie value into its five fields, the ID,
// token and MAC decoded.
type cookieParts struct {
	version, kid   string
	id, token, mac []byte
}

var b64url = base64.RawURLEncoding

func splitCookie(t testing.TB, value string) cookieParts {
	t.Helper()
	f := strings.Split(value, ".")
	require.Len(t, f, 5, "cookie %q", value)
	id, err := b64url.DecodeString(f[2])
	require.NoError(t, err)
	token, err := b64url.DecodeString(f[3])
	require.NoError(t, err)
	mac, err := b64url.DecodeString(f[4])
	require.NoError(t, err)
	return cookieParts{version: f[0], kid: f[1], id: id, token: token, mac: mac}
}

func (p cookieParts) join() string {
	return strings.Join([]string{p.version, p.kid, b64url.EncodeToString(p.id), b64url.EncodeToString(p.token), b64url.EncodeToString(p.mac)}, ".")
}

// testMAC is the server's MAC (core/auth keyring.go mac) recomputed from the
// test's copy of the key: HMAC-SHA256 over the domain and each part, each
// prefixed by its 4-byte big-endian length.
func testMAC(secret []byte, domain string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range append([][]byte{[]byte(domain)}, parts...) {
		n := len(p)
		m.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		m.Write(p)
	}
	return m.Sum(nil)
}

// signSession makes a session cookie for shop, session id and token that
// carries a valid MAC under the harness's key: what only the server (or
// someone holding its key) can make.
func (h *harness) signSession(shop ports.ShopID, id, token []byte) string {
	p := cookieParts{version: "v1", kid: h.keyID, id: id, token: token}
	p.mac = testMAC(h.secret, "stockade/session-cookie/v1", shop.UUID[:], id, token)
	return p.join()
}

// signState re-signs an OIDC state cookie payload for shop.
func (h *harness) signState(shop ports.ShopID, payload []byte) string {
	mac := testMAC(h.secret, "stockade/oidc-state/v1", shop.UUID[:], payload)
	return strings.Join([]string{"v1", h.keyID, b64url.EncodeToString(payload), b64url.EncodeToString(mac)}, ".")
}

// onBothStores runs fn once on SQLite and once on Postgres (application
// role, RLS on), in parallel subtests.
func onBothStores(t *testing.T, fn func(t *testing.T, store harnessOption)) {
	t.Helper()
	for _, v := range storeVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			fn(t, v.give)
		})
	}
}

// storeVariant is one store the harness can run on.
type storeVariant struct {
	name string
	give harnessOption
}

// storeVariants are SQLite and Postgres (application role, RLS on).
func storeVariants() []storeVariant {
	return []storeVariant{
		{"sqlite", func(*harnessOptions) {}},
		{"postgres", onPostgres()},
	}
}
