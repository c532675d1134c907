package httpapi_test

// Passkeys (issue 20, AUTH-12) through the real API on SQLite and
// Postgres, with a software authenticator (passkey_authenticator_test.go):
// registration, passwordless sign-in with a discoverable credential
// (AAL2), step-up, list, rename and remove; and the attacks, each
// refused: an assertion for another shop's RP ID, a lowered sign
// counter, another user's credential, a replayed challenge.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

const alphaOrigin, bravoOrigin = "https://alpha.example.test", "https://bravo.example.test"

type passkeyJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	RPID           string `json:"rp_id"`
	BackupEligible bool   `json:"backup_eligible"`
	BackupState    bool   `json:"backup_state"`
}

type passkeySessionJSON struct {
	AAL          int    `json:"aal"`
	Method       string `json:"method"`
	UserID       string `json:"user_id"`
	SecondFactor string `json:"second_factor"`
}

// registerPasskey registers a passkey for cookie's session on slug
// through the API and returns the authenticator's credential.
func registerPasskey(t *testing.T, a *matrixAPI, sa *softAuthenticator, slug, origin, cookie, name string, backup bool) (*softCredential, passkeyJSON) {
	t.Helper()
	res, raw := a.post(t, "POST", "/auth/passkeys/register/begin", slug, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	cred, c := sa.create(t, raw, origin, backup)
	res, raw = a.post(t, "POST", "/auth/passkeys/register/finish", slug, cookie, map[string]any{"name": name, "credential": cred})
	require.Equal(t, http.StatusCreated, res.StatusCode, raw)
	var out struct {
		Passkey passkeyJSON        `json:"passkey"`
		Session passkeySessionJSON `json:"session"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &out))
	require.Equal(t, ports.AAL2, out.Session.AAL, "registering with user verification is a second factor for this session")
	return c, out.Passkey
}

// beginSignIn starts a passwordless sign-in on slug.
func beginSignIn(t *testing.T, a *matrixAPI, slug string) string {
	t.Helper()
	res, raw := a.post(t, "POST", "/auth/passkeys/signin/begin", slug, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	o := parseOptions(t, raw)
	require.Empty(t, o.PublicKey.AllowCredentials, "a discoverable sign-in names no credential")
	return raw
}

func finishSignIn(t *testing.T, a *matrixAPI, slug string, cred json.RawMessage) (*http.Response, string) {
	t.Helper()
	return a.post(t, "POST", "/auth/passkeys/signin/finish", slug, "", map[string]any{"credential": cred})
}

func TestPasskeys(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			tech, sales := w.byRole[ports.RoleTech], w.byRole[ports.RoleSales]
			sa := &softAuthenticator{}
			techCookie, _ := w.signIn(a, "alpha", tech.Email)
			techKey, listed := registerPasskey(t, a, sa, "alpha", alphaOrigin, techCookie, "Tech's laptop", true)
			require.Equal(t, "alpha.example.test", listed.RPID, "the relying party is the shop's host")
			require.True(t, listed.BackupEligible)
			require.True(t, listed.BackupState)
			salesCookie, _ := w.signIn(a, "alpha", sales.Email)
			salesKey, _ := registerPasskey(t, a, sa, "alpha", alphaOrigin, salesCookie, "Sales' phone", false)

			t.Run("PasswordlessSignIn", func(t *testing.T) {
				opts := beginSignIn(t, a, "alpha")
				res, raw := finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				var s passkeySessionJSON
				require.NoError(t, json.Unmarshal([]byte(raw), &s))
				require.Equal(t, tech.ID.String(), s.UserID, "the user handle names the user")
				require.Equal(t, auth.MethodPasskey, s.Method)
				require.Equal(t, ports.AAL2, s.AAL, "a user-verified passkey is phishing-resistant multi-factor")
				require.Empty(t, s.SecondFactor)
				cookie := sessionCookie(t, res)
				res, raw = a.post(t, "GET", "/files", "alpha", cookie, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
			})

			t.Run("PasswordThenPasskeyStepUp", func(t *testing.T) {
				c, s := signInPending(t, w, a, tech.Email)
				require.Equal(t, auth.PendingStepUp, s.SecondFactor, "a passkey on this shop is the user's second factor here")
				res, raw := a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, raw)
				res, raw = a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"password": matrixPassword})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "a password is no step-up for a passkey holder: %s", raw)
				res, raw = a.post(t, "POST", "/auth/passkeys/register/begin", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "a password alone adds no factor to an account that has one: %s", raw)

				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/begin", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				o := parseOptions(t, raw)
				require.Len(t, o.PublicKey.AllowCredentials, 1, "only tech's own passkeys on this shop are offered")
				require.Equal(t, b64.EncodeToString(techKey.id), o.PublicKey.AllowCredentials[0].ID)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/finish", "alpha", c, map[string]any{"credential": sa.get(t, raw, alphaOrigin, techKey, assertion{})})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"aal":2`)
				res, raw = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
			})

			t.Run("AssertionForAnotherShopsRPID", func(t *testing.T) {
				// Tech is a member of bravo too; the passkey is alpha's.
				require.NoError(t, w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Memberships().Add(ctx, tech.ID, ports.RoleTech)
					return err
				}))
				res, raw := a.post(t, "POST", "/auth/signin", "bravo", "", map[string]string{"email": tech.Email, "password": matrixPassword})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.NotContains(t, raw, "second_factor", "alpha's passkey is not a factor on bravo")
				bc := sessionCookie(t, res)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/begin", "bravo", bc, nil)
				require.Equal(t, http.StatusConflict, res.StatusCode, "alpha's passkey is not offered on bravo: %s", raw)

				// Alpha's credential, signed for alpha, presented to bravo.
				opts := beginSignIn(t, a, "bravo")
				res, raw = finishSignIn(t, a, "bravo", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, raw)
				// Alpha's credential, signed as if for bravo, on bravo's origin.
				opts = beginSignIn(t, a, "bravo")
				res, raw = finishSignIn(t, a, "bravo", sa.get(t, opts, bravoOrigin, techKey, assertion{rpID: "bravo.example.test"}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, raw)
				// On alpha, an assertion whose authenticator data is for bravo's RP ID.
				opts = beginSignIn(t, a, "alpha")
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{rpID: "bravo.example.test"}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, raw)
				// On alpha, signed for alpha but collected on bravo's origin.
				opts = beginSignIn(t, a, "alpha")
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, bravoOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, raw)
				// The same credential honestly used on alpha still works.
				opts = beginSignIn(t, a, "alpha")
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
			})

			t.Run("LoweredSignCounter", func(t *testing.T) {
				opts := beginSignIn(t, a, "alpha")
				high := techKey.counter + 10
				res, raw := finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{counter: &high}))
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				for _, n := range []uint32{high - 3, high} {
					opts = beginSignIn(t, a, "alpha")
					res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{counter: &n}))
					require.Equal(t, http.StatusUnauthorized, res.StatusCode, "counter %d after %d: a cloned authenticator: %s", n, high, raw)
				}
				c, _ := signInPending(t, w, a, tech.Email)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/begin", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				low := high - 1
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/finish", "alpha", c, map[string]any{"credential": sa.get(t, raw, alphaOrigin, techKey, assertion{counter: &low})})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, raw)
				res, _ = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "still not stepped up")
			})

			t.Run("AnotherUsersCredential", func(t *testing.T) {
				c, _ := signInPending(t, w, a, tech.Email)
				res, raw := a.post(t, "POST", "/auth/passkeys/step-up/begin", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/finish", "alpha", c, map[string]any{"credential": sa.get(t, raw, alphaOrigin, salesKey, assertion{})})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "sales' passkey does not step tech up: %s", raw)
				res, _ = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode)
				// Passwordless: sales' credential claiming tech's user handle.
				opts := beginSignIn(t, a, "alpha")
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, salesKey, assertion{userHandle: techKey.userHandle}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, raw)
				// Tech cannot rename or remove sales' passkey.
				var list struct {
					Passkeys []passkeyJSON `json:"passkeys"`
				}
				sc, _ := finishSignInCookie(t, a, sa, salesKey)
				res, raw = a.post(t, "GET", "/auth/passkeys", "alpha", sc, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.NoError(t, json.Unmarshal([]byte(raw), &list))
				require.Len(t, list.Passkeys, 1)
				tc, _ := finishSignInCookie(t, a, sa, techKey)
				res, raw = a.post(t, "PATCH", "/auth/passkeys/"+list.Passkeys[0].ID, "alpha", tc, map[string]string{"name": "mine"})
				require.Equal(t, http.StatusNotFound, res.StatusCode, raw)
				res, raw = a.post(t, "DELETE", "/auth/passkeys/"+list.Passkeys[0].ID, "alpha", tc, nil)
				require.Equal(t, http.StatusNotFound, res.StatusCode, raw)
			})

			t.Run("ReplayedChallenge", func(t *testing.T) {
				opts := beginSignIn(t, a, "alpha")
				cred := sa.get(t, opts, alphaOrigin, techKey, assertion{})
				res, raw := finishSignIn(t, a, "alpha", cred)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, raw = finishSignIn(t, a, "alpha", cred)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the same response again: %s", raw)
				// The same challenge signed afresh, with an advanced counter.
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "a challenge works once: %s", raw)
				// A step-up's challenge is bound to its session.
				c1, _ := signInPending(t, w, a, tech.Email)
				c2, _ := signInPending(t, w, a, tech.Email)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/begin", "alpha", c1, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, raw = a.post(t, "POST", "/auth/passkeys/step-up/finish", "alpha", c2, map[string]any{"credential": sa.get(t, raw, alphaOrigin, techKey, assertion{})})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "another session's ceremony: %s", raw)
				// An expired ceremony.
				opts = beginSignIn(t, a, "alpha")
				w.clock.Advance(auth.PasskeyCeremonyTTL + 1)
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "an expired challenge: %s", raw)
			})

			t.Run("ListRenameRemove", func(t *testing.T) {
				c, _ := finishSignInCookie(t, a, sa, techKey)
				second, _ := registerPasskey(t, a, sa, "alpha", alphaOrigin, c, "Tech's phone", false)
				var list struct {
					Passkeys []passkeyJSON `json:"passkeys"`
				}
				res, raw := a.post(t, "GET", "/auth/passkeys", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.NoError(t, json.Unmarshal([]byte(raw), &list))
				require.Len(t, list.Passkeys, 2)
				assert.Equal(t, "Tech's laptop", list.Passkeys[0].Name)
				assert.Equal(t, "Tech's phone", list.Passkeys[1].Name)
				assert.False(t, list.Passkeys[1].BackupEligible)
				res, raw = a.post(t, "PATCH", "/auth/passkeys/"+list.Passkeys[1].ID, "alpha", c, map[string]string{"name": "Old phone"})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"name":"Old phone"`)
				res, raw = a.post(t, "DELETE", "/auth/passkeys/"+list.Passkeys[1].ID, "alpha", c, nil)
				require.Equal(t, http.StatusNoContent, res.StatusCode, raw)
				opts := beginSignIn(t, a, "alpha")
				res, raw = finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, second, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "a removed passkey signs nobody in: %s", raw)
				// Removing needs a recent authentication.
				w.clock.Advance(11 * time.Minute) // past the default ReauthWindow of 10 minutes
				res, raw = a.post(t, "DELETE", "/auth/passkeys/"+list.Passkeys[0].ID, "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, raw)
			})

			t.Run("ResetUserRemovesPasskeys", func(t *testing.T) {
				// Sales has a passkey and no TOTP: a lost device is reset
				// by an operator, and the passkey signs nobody in after.
				sc, _ := finishSignInCookie(t, a, sa, salesKey)
				w.clock.Advance(time.Second) // the reset comes after the session began
				_, err := a.auth.ResetUserSecondFactor(context.Background(), sales.Email)
				require.NoError(t, err, "a passkey-only member can be reset")
				opts := beginSignIn(t, a, "alpha")
				res, raw := finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, salesKey, assertion{}))
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the lost device's passkey is gone: %s", raw)
				res, raw = a.post(t, "GET", "/files", "alpha", sc, nil)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the member's sessions ended: %s", raw)
				_, err = a.auth.ResetUserSecondFactor(context.Background(), sales.Email)
				require.ErrorIs(t, err, ports.ErrNotFound, "nothing left to reset")
			})

			t.Run("MandatorySSORefusesPasskeys", func(t *testing.T) {
				// The org proves tech's domain and makes its IdP
				// mandatory: a passkey is no way around it.
				ctx := context.Background()
				_, domain, _ := strings.Cut(tech.Email, "@")
				require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					if _, err := tx.OrgDomains().Add(ctx, ports.OrgDomain{OrgID: w.alpha.OrgID, Domain: domain, Token: "test-token"}); err != nil {
						return err
					}
					if _, err := tx.OrgDomains().MarkVerified(ctx, w.alpha.OrgID, domain, w.clock.Now()); err != nil {
						return err
					}
					_, err := tx.SSOConnections().Put(ctx, ports.SSOConnection{OrgID: w.alpha.OrgID, Issuer: "https://idp.example.test", ClientID: "stockade",
						SealedSecret: []byte("sealed"), DefaultRole: ports.RoleViewer, Enabled: true, Mandatory: true, UpdatedBy: "test"})
					return err
				}))
				t.Cleanup(func() {
					require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
						if err := tx.SSOConnections().Delete(ctx, w.alpha.OrgID); err != nil {
							return err
						}
						return tx.OrgDomains().Remove(ctx, w.alpha.OrgID, domain)
					}))
				})
				opts := beginSignIn(t, a, "alpha")
				res, raw := finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, techKey, assertion{}))
				require.Equal(t, http.StatusForbidden, res.StatusCode, raw)
				require.Contains(t, raw, "requires single sign-on")
				require.Empty(t, res.Cookies(), "no session cookie is set")
			})
		})
	}
}

// finishSignInCookie signs c's owner in on alpha with the passkey and
// returns the session cookie.
func finishSignInCookie(t *testing.T, a *matrixAPI, sa *softAuthenticator, c *softCredential) (string, string) {
	t.Helper()
	opts := beginSignIn(t, a, "alpha")
	res, raw := finishSignIn(t, a, "alpha", sa.get(t, opts, alphaOrigin, c, assertion{}))
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	return sessionCookie(t, res), raw
}
