package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// TestPreJoinTakeoverByInvitation (AUTH-16, TEN-9) is the attack of issue
// 16 item 2: somebody signs up with the address of a person who is later
// invited; the person accepts. The membership must land on the person's
// account, with the person's password, and nothing the asker set before
// may keep working. Both halves fail on the old code: the sign-up made an
// account the invitation then joined, so the asker's password signed in
// to the shop and the person's own password did not; and an account with
// the asker's sessions elsewhere kept them after the person accepted.
func TestPreJoinTakeoverByInvitation(t *testing.T) {
	for _, onPG := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[onPG]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newMatrixWorld(t, onPG)
			a := w.api(access.DefaultPolicy())
			owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
			invite := func(email string) string {
				t.Helper()
				res := a.send("POST", "/invitations", "alpha", owner, `{"email":"`+email+`","role":"tech"}`, "application/json")
				require.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))
				_, token := w.mailer.lastLink(t)
				return token
			}
			accept := func(token string) *http.Response {
				t.Helper()
				res := a.send("POST", "/invitations/accept", "alpha", "", `{"token":"`+token+`","name":"The Owner","password":"`+victimPassword+`"}`, "application/json")
				require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
				return res
			}
			signIn := func(slug, email, password string) int {
				res := a.send("POST", "/auth/signin", slug, "", credentials(email, password), "application/json")
				_ = readBody(t, res)
				return res.StatusCode
			}

			t.Run("sign-up before the invitation", func(t *testing.T) {
				a.send("POST", "/auth/signup", "alpha", "", signUpBody("first.victim@example.test", attackerPassword), "application/json")
				accept(invite("first.victim@example.test"))
				assert.Equal(t, http.StatusUnauthorized, signIn("alpha", "first.victim@example.test", attackerPassword), "the asker's password does not sign in")
				assert.Equal(t, http.StatusOK, signIn("alpha", "first.victim@example.test", victimPassword), "the person's own password does")
			})

			t.Run("account with sessions elsewhere", func(t *testing.T) {
				ctx := context.Background()
				hash, err := w.hasher.Hash(ctx, attackerPassword)
				require.NoError(t, err)
				var victim ports.User
				require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					var err error
					if victim, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "second.victim@example.test"}); err != nil {
						return err
					}
					if _, err := tx.Identities().Link(ctx, ports.Identity{Issuer: "https://attacker-idp.example", Subject: "me", UserID: victim.ID}); err != nil {
						return err
					}
					return tx.Passwords().Set(ctx, victim.ID, hash)
				}))
				_, err = a.tenancy.AddMember(access.System(ctx, w.charlie.ID, w.charlie.OrgID, "test"), victim.Email, ports.RoleViewer)
				require.NoError(t, err)
				var foothold auth.Issued
				require.NoError(t, w.raw.InShop(ctx, w.charlie.ID, func(ctx context.Context, tx ports.ShopTx) error {
					foothold, err = a.auth.IssueSession(ctx, tx, victim.ID, auth.MethodPassword, auth.Client{}, "")
					return err
				}))
				res := a.send("GET", "/auth/me", "charlie", foothold.Cookie, "", "")
				require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
				w.clock.Advance(time.Second)

				res = accept(invite(victim.Email))
				res = a.send("GET", "/auth/me", "alpha", sessionCookie(t, res), "", "")
				require.Equal(t, http.StatusOK, res.StatusCode, "the person is signed in: "+readBody(t, res))
				res = a.send("GET", "/auth/me", "charlie", foothold.Cookie, "", "")
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the asker's session in another shop ended: "+readBody(t, res))
				assert.Equal(t, http.StatusUnauthorized, signIn("charlie", victim.Email, attackerPassword), "the asker's password is gone")
				require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					ids, err := tx.Identities().ListByUser(ctx, victim.ID)
					assert.Empty(t, ids, "the asker's identity link is gone")
					return err
				}, ports.ReadOnly()))
				var proven int
				require.NoError(t, w.raw.InShop(ctx, w.charlie.ID, func(ctx context.Context, tx ports.ShopTx) error {
					evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
					for _, e := range evs {
						if e.Action == "auth.mailbox.proven" {
							proven++
						}
					}
					return err
				}, ports.ReadOnly()))
				assert.Equal(t, 1, proven, "the first proof is audited in the account's other shop")
			})
		})
	}
}
