package app_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/ports"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func tokenHash(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return h[:]
}

// kept are the rows seeded in one shop that a sweep must leave alone.
type kept struct {
	session, idleButYoung ports.SessionID
	liveLink              []byte
	recentInvitation      ports.InvitationID
	recentCapability      ports.CapabilityID
}

// seedExpiring gives shop one row of each kind that a sweep at now must
// delete, and one it must keep, with the default timeouts: sessions idle
// 72h, grace 7 days.
func seedExpiring(t testing.TB, st ports.Store, tn tenant, now time.Time) kept {
	t.Helper()
	var k kept
	require.NoError(t, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
		session := func(created, lastSeen, expires time.Time) (ports.SessionID, error) {
			s, err := tx.Sessions().Create(ctx, ports.Session{ID: ports.NewSessionID(), UserID: tn.user, TokenHash: tokenHash(t),
				Method: "password", CreatedAt: created, ExpiresAt: expires})
			if err != nil {
				return s.ID, err
			}
			// The store stamps creation with its own clock; Touch sets
			// the last use.
			return s.ID, tx.Sessions().Touch(ctx, s.ID, lastSeen)
		}
		var err error
		// Deleted: past its absolute end; idle for longer than 72h.
		if _, err = session(now.Add(-40*24*time.Hour), now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
			return err
		}
		if _, err = session(now.Add(-5*24*time.Hour), now.Add(-73*time.Hour), now.Add(20*24*time.Hour)); err != nil {
			return err
		}
		// Kept: in use; idle for less than 72h.
		if k.session, err = session(now.Add(-time.Hour), now.Add(-time.Minute), now.Add(29*24*time.Hour)); err != nil {
			return err
		}
		if k.idleButYoung, err = session(now.Add(-3*24*time.Hour), now.Add(-71*time.Hour), now.Add(27*24*time.Hour)); err != nil {
			return err
		}
		k.liveLink = tokenHash(t)
		for _, l := range []ports.MagicLink{
			{TokenHash: tokenHash(t), UserID: tn.user, Email: "a@example.com", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-45 * time.Minute)},
			{TokenHash: k.liveLink, UserID: tn.user, Email: "a@example.com", CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(14 * time.Minute)},
		} {
			if _, err = tx.MagicLinks().Create(ctx, l); err != nil {
				return err
			}
		}
		inv := func(expires time.Time) (ports.InvitationID, error) {
			i, err := tx.Invitations().Create(ctx, ports.Invitation{ID: ports.NewInvitationID(), TokenHash: tokenHash(t), Email: "new@example.com",
				Role: ports.RoleTech, InvitedBy: tn.user, CreatedAt: expires.Add(-7 * 24 * time.Hour), ExpiresAt: expires})
			return i.ID, err
		}
		// Deleted: expired 8 days ago. Kept: expired yesterday (grace).
		if _, err = inv(now.Add(-8 * 24 * time.Hour)); err != nil {
			return err
		}
		if k.recentInvitation, err = inv(now.Add(-24 * time.Hour)); err != nil {
			return err
		}
		capability := func(expires time.Time) (ports.CapabilityID, error) {
			c, err := tx.Capabilities().Create(ctx, ports.Capability{ID: ports.NewCapabilityID(), TokenHash: tokenHash(t), RecordType: "file",
				RecordID: tn.file.String(), Actions: []string{"view"}, CreatedBy: tn.user, CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires})
			return c.ID, err
		}
		if _, err = capability(now.Add(-10 * 24 * time.Hour)); err != nil {
			return err
		}
		k.recentCapability, err = capability(now.Add(-6 * 24 * time.Hour))
		return err
	}))
	return k
}

// TestHousekeepingSweep seeds every kind of row a sweep removes, one to
// delete and one to keep, in two shops and globally, on SQLite and on
// Postgres as the application role (RLS on): the pass deletes exactly
// the expired ones, audits the counts in each shop's chain, signs each
// chain head, and a second pass finds nothing to do.
func TestHousekeepingSweep(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			tenants := seedTenants(t, st, 2)
			var keep []kept
			for _, tn := range tenants {
				keep = append(keep, seedExpiring(t, st, tn, now))
			}
			var liveOperatorSession ports.OperatorSessionID
			var org ports.OrgID
			var recentOrgInvitation ports.InvitationID
			require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
				op, err := tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "ops@example.com", Name: "Ops", CreatedAt: now.Add(-time.Hour)}, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
				if err != nil {
					return err
				}
				for i, s := range []ports.OperatorSession{
					{LastSeenAt: now.Add(-31 * time.Minute), ExpiresAt: now.Add(7 * time.Hour)}, // idle: deleted
					{LastSeenAt: now.Add(-time.Minute), ExpiresAt: now.Add(7 * time.Hour)},      // kept
				} {
					s.ID, s.OperatorID, s.TokenHash, s.CreatedAt = ports.NewOperatorSessionID(), op.ID, tokenHash(t), now.Add(-time.Hour)
					if _, err := tx.Operators().CreateSession(ctx, s); err != nil {
						return err
					}
					if err := tx.Operators().TouchSession(ctx, s.ID, s.LastSeenAt); err != nil {
						return err
					}
					if i == 1 {
						liveOperatorSession = s.ID
					}
				}
				// Org invitations: expired 8 days ago (deleted), yesterday
				// (kept: grace).
				shop, err := tx.Shops().Get(ctx, tenants[0].shop)
				if err != nil {
					return err
				}
				org = shop.OrgID
				for _, expires := range []time.Time{now.Add(-8 * 24 * time.Hour), now.Add(-24 * time.Hour)} {
					inv, err := tx.OrgInvitations().Create(ctx, ports.OrgInvitation{ID: ports.NewInvitationID(), OrgID: org,
						TokenHash: tokenHash(t), Email: "hq@example.com", Role: ports.OrgAdmin, ExpiresAt: expires})
					if err != nil {
						return err
					}
					recentOrgInvitation = inv.ID
				}
				if _, _, err := tx.RateLimits().Hit(ctx, "signin:old", 15*time.Minute, now.Add(-time.Hour)); err != nil {
					return err
				}
				for range 2 {
					if _, _, err := tx.RateLimits().Hit(ctx, "signin:fresh", 15*time.Minute, now.Add(-time.Minute)); err != nil {
						return err
					}
				}
				for _, exp := range []time.Time{now.Add(-time.Minute), now.Add(10 * time.Minute)} { // expired: deleted; live: kept
					if _, err := tx.MailTokens().Create(ctx, ports.MailToken{TokenHash: tokenHash(t), Purpose: ports.MailTokenVerify,
						Email: "pending@example.com", PasswordHash: "$argon2id$pending", ExpiresAt: exp}); err != nil {
						return err
					}
				}
				return nil
			}))

			skey, vkey, err := note.GenerateKey(rand.Reader, "stockade-audit")
			require.NoError(t, err)
			signer, err := note.NewSigner(skey)
			require.NoError(t, err)
			verifier, err := note.NewVerifier(vkey)
			require.NoError(t, err)
			lister, ok := st.(ports.AuditShopLister)
			require.True(t, ok, "the store lists its shops")
			sw, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: lister, Clock: fixedClock(now)},
				housekeeping.Config{Signer: signer, Verifiers: note.VerifierList(verifier)})
			require.NoError(t, err)

			rep, err := sw.Sweep(ctx)
			require.NoError(t, err)
			n := len(tenants)
			assert.Equal(t, housekeeping.Report{Shops: n,
				ShopReport:       housekeeping.ShopReport{Sessions: 2 * n, MagicLinks: n, Invitations: n, Capabilities: n},
				OperatorSessions: 1, RateLimits: 1, OrgInvitations: 1, MailTokens: 1, Checkpoints: n}, rep)

			for i, tn := range tenants {
				k := keep[i]
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					ss, err := tx.Sessions().ListByUser(ctx, tn.user)
					require.NoError(t, err)
					var ids []ports.SessionID
					for _, s := range ss {
						ids = append(ids, s.ID)
					}
					assert.ElementsMatch(t, []ports.SessionID{k.session, k.idleButYoung}, ids)
					_, err = tx.Invitations().Get(ctx, k.recentInvitation)
					assert.NoError(t, err, "an invitation expired within the grace period is still listed")
					_, err = tx.Capabilities().Get(ctx, k.recentCapability)
					assert.NoError(t, err, "a link expired within the grace period is kept")
					_, err = tx.MagicLinks().Consume(ctx, k.liveLink, now)
					assert.NoError(t, err, "a live magic link still works")
					events, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 100})
					require.NoError(t, err)
					require.NotEmpty(t, events)
					last := events[len(events)-1]
					assert.Equal(t, "housekeeping.swept", last.Action)
					assert.Equal(t, housekeeping.Actor, last.Actor)
					var counts map[string]int
					require.NoError(t, json.Unmarshal(last.After, &counts))
					assert.Equal(t, map[string]int{"sessions": 2, "magic_links": 1, "invitations": 1, "capabilities": 1, "jobs": 0, "messages": 0, "messaging_events": 0}, counts)
					cp, err := tx.AuditCheckpoints().Latest(ctx)
					require.NoError(t, err)
					assert.Equal(t, last.Seq, cp.Size, "the checkpoint pins the chain up to the sweep's own event")
					return nil
				}))
				vr, err := audit.Verify(ctx, st, tn.shop, note.VerifierList(verifier))
				require.NoError(t, err)
				assert.Empty(t, vr.Problems)
			}
			require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
				_, _, err := tx.Operators().Session(ctx, liveOperatorSession)
				assert.NoError(t, err, "the operator session in use is kept")
				count, _, err := tx.RateLimits().Hit(ctx, "signin:fresh", 15*time.Minute, now)
				assert.Equal(t, 3, count, "a counter in its window keeps counting")
				if err != nil {
					return err
				}
				invs, err := tx.OrgInvitations().List(ctx, org, time.Time{})
				require.Len(t, invs, 1)
				assert.Equal(t, recentOrgInvitation, invs[0].ID, "an org invitation expired within the grace period is kept")
				return err
			}))

			again, err := sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, housekeeping.Report{Shops: n}, again, "nothing left to delete, no new event, heads unchanged")

			// Done jobs stay for the grace period after they finish (the
			// store stamps the finish with its own clock: now), dead jobs
			// for good.
			jobs := map[ports.ShopID][2]ports.JobID{}
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					var ids [2]ports.JobID
					for i := range ids {
						j, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "test", MaxAttempts: 1})
						if err != nil {
							return err
						}
						ids[i] = j.ID
					}
					jobs[tn.shop] = ids
					return nil
				}))
			}
			claimed, err := st.(ports.JobQueue).Claim(ctx, time.Now().Add(time.Hour), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, claimed, 2*n)
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					if err := tx.Jobs().Complete(ctx, jobs[tn.shop][0], 1); err != nil {
						return err
					}
					_, err := tx.Jobs().Fail(ctx, jobs[tn.shop][1], 1, "gave up", time.Time{}, true)
					return err
				}))
			}
			rep, err = sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, rep.Jobs, "finished within the grace period")
			eightDays, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: lister, Clock: fixedClock(time.Now().Add(8 * 24 * time.Hour))},
				housekeeping.Config{})
			require.NoError(t, err)
			rep, err = eightDays.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, n, rep.Jobs, "one done job per shop")
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Jobs().Get(ctx, jobs[tn.shop][0])
					assert.ErrorIs(t, err, ports.ErrNotFound)
					j, err := tx.Jobs().Get(ctx, jobs[tn.shop][1])
					assert.Equal(t, ports.JobDead, j.State, "a dead job is kept")
					return err
				}))
			}

			// Finished messages and inbound event IDs stay for the message
			// retention (30 days).
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					c, err := tx.Consent().CreateContact(ctx, ports.Contact{ID: ports.NewContactID(), Phone: "+15551230001"})
					if err != nil {
						return err
					}
					for _, cancel := range []bool{true, false} {
						id := ports.NewMessageID()
						m, err := tx.Outbox().Enqueue(ctx, ports.OutboxMessage{ID: id, Contact: c.ID, Channel: ports.ChannelSMS, Category: ports.CategoryTransactional,
							SMS: ports.SMS{MessagingServiceSID: "MG1", To: c.Phone, Body: "Your code is 123456", IdempotencyKey: id.String()}})
						if err != nil {
							return err
						}
						if cancel {
							if _, err := tx.Outbox().Cancel(ctx, m.ID, "test"); err != nil {
								return err
							}
						}
					}
					return tx.Outbox().RecordEvent(ctx, "twilio", "SM"+tn.shop.String()[:8])
				}))
			}
			rep, err = eightDays.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, rep.Messages+rep.Events, "within the retention")
			month, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: lister, Clock: fixedClock(time.Now().Add(31 * 24 * time.Hour))},
				housekeeping.Config{})
			require.NoError(t, err)
			rep, err = month.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, n, rep.Messages, "the cancelled message of each shop; the queued one stays")
			assert.Equal(t, n, rep.Events)
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					ms, err := tx.Outbox().List(ctx, ports.OutboxQuery{})
					if assert.Len(t, ms, 1) {
						assert.Equal(t, ports.MessageQueued, ms[0].State)
					}
					return err
				}))
			}

			// A moved head is signed once the latest checkpoint is older
			// than CheckpointEvery (24h), not before.
			for _, tn := range tenants {
				require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: now, Actor: "system:test",
						Action: "settings.changed", Target: "shop:" + tn.shop.String(), Outcome: ports.OutcomeSuccess})
					return err
				}))
			}
			rep, err = sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, rep.Checkpoints, "the latest checkpoint is recent")
			later, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: lister, Clock: fixedClock(now.Add(25 * time.Hour))},
				housekeeping.Config{Signer: signer, Verifiers: note.VerifierList(verifier)})
			require.NoError(t, err)
			rep, err = later.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, n, rep.Checkpoints)
		})
	}
}

// TestHousekeepingRun: the loop sweeps once per tick and returns when the
// ticks end.
func TestHousekeepingRun(t *testing.T) {
	st, _ := jobBackends[0].open(t)
	seedTenants(t, st, 1)
	sw, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: st.(ports.AuditShopLister)}, housekeeping.Config{})
	require.NoError(t, err)
	ticks := make(chan time.Time)
	reports := make(chan housekeeping.Report, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.Run(context.Background(), ticks, func(r housekeeping.Report, err error) {
			assert.NoError(t, err)
			reports <- r
		})
	}()
	ticks <- time.Now()
	ticks <- time.Now()
	close(ticks)
	<-done
	close(reports)
	var got []int
	for r := range reports {
		got = append(got, r.Shops)
	}
	assert.Equal(t, []int{1, 1}, got)
}

func TestHousekeepingNew(t *testing.T) {
	_, err := housekeeping.New(housekeeping.Deps{}, housekeeping.Config{})
	assert.ErrorIs(t, err, ports.ErrInvalid)
	st, _ := jobBackends[0].open(t)
	lister := st.(ports.AuditShopLister)
	_, err = housekeeping.New(housekeeping.Deps{Store: st, Shops: lister}, housekeeping.Config{Grace: -time.Hour})
	assert.ErrorIs(t, err, ports.ErrInvalid)
	skey, _, err := note.GenerateKey(rand.Reader, "k")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	_, err = housekeeping.New(housekeeping.Deps{Store: st, Shops: lister}, housekeeping.Config{Signer: signer})
	assert.ErrorIs(t, err, ports.ErrInvalid, "a signer without verifiers")
}

// seedIdleSession opens cfg's store and gives a new shop a member whose
// session has been idle for two hours, and closes the store.
func seedIdleSession(t *testing.T, cfg app.Config) (ports.ShopID, ports.SessionID) {
	t.Helper()
	st := openJobStore(t, cfg)
	tn := seedTenants(t, st, 1)[0]
	var id ports.SessionID
	require.NoError(t, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
		s, err := tx.Sessions().Create(ctx, ports.Session{ID: ports.NewSessionID(), UserID: tn.user, TokenHash: tokenHash(t),
			Method: "password", ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		id = s.ID
		return tx.Sessions().Touch(ctx, s.ID, time.Now().Add(-2*time.Hour))
	}))
	require.NoError(t, st.Close())
	return tn.shop, id
}

// TestHousekeepingModule: the server's first pass runs when it starts and
// deletes a session idle for longer than the configured timeout; with
// STOCKADE_HOUSEKEEPING_OFF the server runs none.
func TestHousekeepingModule(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "on", true: "off"}[off], func(t *testing.T) {
			cfg := fxConfig(t)
			cfg.Auth.SessionIdleTimeout = time.Hour
			cfg.Housekeeping.Off = off
			shop, session := seedIdleSession(t, cfg)
			var logs syncBuffer
			a := fx.New(app.ConfigModule(cfg), app.LogModule(), app.StoreModule(), app.HousekeepingModule(),
				app.WithLogOutput(&logs), fx.NopLogger)
			require.NoError(t, a.Err())
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			require.NoError(t, a.Start(ctx))
			if !off {
				require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"housekeeping pass"`) }, 10*time.Second, 5*time.Millisecond)
			}
			require.NoError(t, a.Stop(ctx))

			st := openJobStore(t, cfg)
			err := st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Sessions().Get(ctx, session)
				return err
			})
			if off {
				assert.NoError(t, err, "no pass ran")
				assert.NotContains(t, logs.String(), "housekeeping pass")
				return
			}
			assert.ErrorIs(t, err, ports.ErrNotFound, "the idle session is gone")
			var line map[string]any
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"housekeeping pass"`) {
					require.NoError(t, json.Unmarshal([]byte(l), &line))
				}
			}
			assert.Equal(t, float64(1), line["sessions"])
			assert.Equal(t, float64(1), line["checkpoints"])
			assert.Equal(t, "housekeeping", line["component"])
		})
	}
}

// TestHousekeepingDeletesEndedAuthMail: sent and dead auth mail (bodies
// already wiped) is deleted once MessageRetention has passed since it
// ended; queued mail stays, whatever its age.
func TestHousekeepingDeletesEndedAuthMail(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := context.Background()
			q := st.(ports.AuthMailOutbox)
			enqueue := func() {
				require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.AuthMail().Enqueue(ctx, ports.AuthMail{ID: ports.NewAuthMailID(), Kind: ports.AuthMailReset,
						To: "ann@example.com", Subject: "Reset", Sealed: tokenHash(t)})
					return err
				}))
			}
			enqueue()
			enqueue()
			due, err := q.ClaimAuthMail(ctx, time.Now(), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, due, 2)
			_, err = q.MarkAuthMailSent(ctx, due[0], "p-1")
			require.NoError(t, err)
			_, err = q.FailAuthMail(ctx, due[1], "refused", time.Time{}, true)
			require.NoError(t, err)
			enqueue()

			sweep := func(at time.Time) housekeeping.Report {
				t.Helper()
				sw, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: st.(ports.AuditShopLister), AuthMail: q, Clock: fixedClock(at)},
					housekeeping.Config{})
				require.NoError(t, err)
				rep, err := sw.Sweep(ctx)
				require.NoError(t, err)
				return rep
			}
			assert.Zero(t, sweep(time.Now().Add(29*24*time.Hour)).AuthMail, "within the retention")
			assert.Equal(t, 2, sweep(time.Now().Add(31*24*time.Hour)).AuthMail, "the sent and the dead mail")
			left, err := q.ClaimAuthMail(ctx, time.Now().Add(32*24*time.Hour), 10, time.Minute)
			require.NoError(t, err)
			assert.Len(t, left, 1, "the queued mail stays")
		})
	}
}
