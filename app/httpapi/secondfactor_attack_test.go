package httpapi_test

// Second-factor attacks (issue 20, AUTH-11, AUTH-13, AUTH-18), each
// refused through the real API on SQLite and Postgres: a replayed TOTP
// code, a code from another secret, a used recovery code, an AAL1 session
// calling an AAL2 action, a member of an enforcing shop skipping
// enrolment, a session created before enforcement was turned on, and an
// operator without a second factor starting an impersonation.

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

type enrolJSON struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      []byte `json:"qr_png"`
}

type factorSessionJSON struct {
	AAL          int    `json:"aal"`
	SecondFactor string `json:"second_factor"`
}

// post sends a JSON body (or none) as cookie's session on slug's host.
func (a *matrixAPI) post(t *testing.T, method, path, slug, cookie string, body any) (*http.Response, string) {
	t.Helper()
	var b, ct string
	if body != nil {
		b, ct = jsonOf(t, body), "application/json"
	}
	res := a.send(method, path, slug, cookie, b, ct)
	return res, readBody(t, res)
}

// enrolMember enrols a TOTP factor for the session's user through the API
// and returns the recovery codes; the world's authenticator app holds the
// secret from then on.
func enrolMember(t *testing.T, a *matrixAPI, cookie, email string) []string {
	t.Helper()
	res, raw := a.post(t, "POST", "/auth/2fa/totp/enrol", "alpha", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var en enrolJSON
	require.NoError(t, json.Unmarshal([]byte(raw), &en))
	require.True(t, strings.HasPrefix(en.OTPAuthURI, "otpauth://totp/"), en.OTPAuthURI)
	require.Contains(t, en.OTPAuthURI, "secret="+en.Secret)
	img, err := png.Decode(bytes.NewReader(en.QRPNG))
	require.NoError(t, err, "the QR code is a PNG")
	require.Equal(t, 256, img.Bounds().Dx())
	a.w.canary.Secret("a TOTP secret", en.Secret)
	a.w.totp.add(email, en.Secret)

	res, raw = a.post(t, "POST", "/auth/2fa/totp/confirm", "alpha", cookie, map[string]string{"code": a.w.totp.code(t, a.w.clock, email)})
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	var out struct {
		RecoveryCodes []string          `json:"recovery_codes"`
		Session       factorSessionJSON `json:"session"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &out))
	require.Len(t, out.RecoveryCodes, auth.RecoveryCodeCount)
	require.Equal(t, ports.AAL2, out.Session.AAL, "the confirming code is a second factor for this session")
	for _, c := range out.RecoveryCodes {
		a.w.canary.Secret("a recovery code", c)
	}
	return out.RecoveryCodes
}

func signInPending(t *testing.T, w *matrixWorld, a *matrixAPI, email string) (string, factorSessionJSON) {
	t.Helper()
	res := a.send(http.MethodPost, "/auth/signin", "alpha", "", credentials(email, matrixPassword), "application/json")
	raw := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	var s factorSessionJSON
	require.NoError(t, json.Unmarshal([]byte(raw), &s))
	return sessionCookie(t, res), s
}

func TestSecondFactorAttacks(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			tech, sales, owner := w.byRole[ports.RoleTech], w.byRole[ports.RoleSales], w.byRole[ports.RoleOwner]
			techCookie, _ := w.signIn(a, "alpha", tech.Email)
			codes := enrolMember(t, a, techCookie, tech.Email)

			t.Run("AAL1SessionCallingAnAAL2Action", func(t *testing.T) {
				c, s := signInPending(t, w, a, tech.Email)
				require.Equal(t, auth.PendingStepUp, s.SecondFactor, "a password alone is one factor")
				require.Equal(t, ports.AAL1, s.AAL)
				for _, r := range []struct{ method, path string }{{"GET", "/files"}, {"GET", "/members"}, {"POST", "/auth/password"}, {"POST", "/auth/2fa/recovery-codes"}, {"DELETE", "/auth/2fa/totp"}} {
					res, raw := a.post(t, r.method, r.path, "alpha", c, nil)
					require.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s: %s", r.method, r.path, raw)
					require.Contains(t, raw, "step up")
				}
				res, raw := a.post(t, "GET", "/auth/me", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"second_factor":"step_up"`)
			})

			t.Run("ReplayedCode", func(t *testing.T) {
				first, _ := signInPending(t, w, a, tech.Email)
				code := w.totp.code(t, w.clock, tech.Email)
				res, raw := a.post(t, "POST", "/auth/2fa/step-up", "alpha", first, map[string]string{"code": code})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"aal":2`)
				res, raw = a.post(t, "GET", "/files", "alpha", first, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)

				second, _ := signInPending(t, w, a, tech.Email)
				res, raw = a.post(t, "POST", "/auth/2fa/step-up", "alpha", second, map[string]string{"code": code})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "the same code, the same window: %s", raw)
				res, _ = a.post(t, "GET", "/files", "alpha", second, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "still not stepped up")
			})

			t.Run("CodeFromAnotherSecret", func(t *testing.T) {
				salesCookie, _ := w.signIn(a, "alpha", sales.Email)
				enrolMember(t, a, salesCookie, sales.Email)
				c, _ := signInPending(t, w, a, tech.Email)
				res, raw := a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"code": w.totp.code(t, w.clock, sales.Email)})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "sales' code is not tech's: %s", raw)
				res, _ = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode)
			})

			t.Run("UsedRecoveryCode", func(t *testing.T) {
				c, _ := signInPending(t, w, a, tech.Email)
				res, raw := a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"recovery_code": strings.ToUpper(codes[0])})
				require.Equal(t, http.StatusOK, res.StatusCode, "a recovery code, typed in capitals: %s", raw)
				again, _ := signInPending(t, w, a, tech.Email)
				res, raw = a.post(t, "POST", "/auth/2fa/step-up", "alpha", again, map[string]string{"recovery_code": codes[0]})
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "a used recovery code: %s", raw)
				res, raw = a.post(t, "GET", "/auth/2fa", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"recovery_codes_left":9`)
			})

			t.Run("StaleSessionCallingASensitiveAction", func(t *testing.T) {
				c, _ := signInPending(t, w, a, tech.Email)
				res, raw := a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"code": w.totp.code(t, w.clock, tech.Email)})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				w.clock.Advance(11 * time.Minute)
				res, raw = a.post(t, "POST", "/auth/2fa/recovery-codes", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "an AAL2 session, but its last authentication is 11 minutes old: %s", raw)
				require.Contains(t, raw, "recent sign-in")
				res, raw = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "an ordinary route still serves it: %s", raw)
				res, raw = a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"code": w.totp.code(t, w.clock, tech.Email)})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, raw = a.post(t, "POST", "/auth/2fa/recovery-codes", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "re-authenticated: %s", raw)
			})

			t.Run("HQAccessFollowsTheTargetsPolicy", func(t *testing.T) {
				// The org admin signs in on alpha (no policy there) and
				// reaches charlie through HQ: charlie's policy decides.
				setPolicy := func(p ports.TwoFactorPolicy) {
					t.Helper()
					require.NoError(t, w.raw.InShop(context.Background(), w.charlie.ID, func(ctx context.Context, tx ports.ShopTx) error {
						_, err := tx.TwoFactorPolicy().Set(ctx, p)
						return err
					}))
				}
				hq, s := signInPending(t, w, a, w.hqAdmin.Email)
				require.Equal(t, ports.AAL1, s.AAL)
				res, raw := a.post(t, "GET", "/hq/shops/charlie/shop", "alpha", hq, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)

				mark := head(shopLog(t, w, w.charlie.ID))
				for _, p := range []ports.TwoFactorPolicy{{Roles: []ports.Role{access.HQRole}}, {AllMembers: true}} {
					setPolicy(p)
					res, raw = a.post(t, "GET", "/hq/shops/charlie/shop", "alpha", hq, nil)
					require.Equal(t, http.StatusForbidden, res.StatusCode, "policy %+v: %s", p, raw)
					require.Contains(t, raw, "requires a second factor for HQ access")
				}
				requireSteps(t, since(shopLog(t, w, w.charlie.ID), mark), step{"hq.access", ports.OutcomeDenied}, step{"hq.access", ports.OutcomeDenied})
				res, raw = a.post(t, "GET", "/files", "alpha", hq, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "alpha's own policy is unchanged: %s", raw)

				setPolicy(ports.TwoFactorPolicy{Roles: []ports.Role{ports.RoleTech}})
				res, raw = a.post(t, "GET", "/hq/shops/charlie/shop", "alpha", hq, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "a policy that does not name HQ's role: %s", raw)

				// With a second factor used, the session is served.
				setPolicy(ports.TwoFactorPolicy{AllMembers: true})
				enrolMember(t, a, hq, w.hqAdmin.Email)
				res, raw = a.post(t, "GET", "/hq/shops/charlie/shop", "alpha", hq, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "an AAL2 session: %s", raw)
				setPolicy(ports.TwoFactorPolicy{})
			})

			t.Run("EnforcingShop", func(t *testing.T) {
				ownerCookie, _ := w.signIn(a, "alpha", owner.Email)
				admin := w.byRole[ports.RoleAdmin]
				adminBefore, _ := w.signIn(a, "alpha", admin.Email) // made before the policy
				viewer := w.byRole[ports.RoleViewer]
				viewerCookie, _ := w.signIn(a, "alpha", viewer.Email)
				res, raw := a.post(t, "GET", "/files", "alpha", adminBefore, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)

				mark := head(shopLog(t, w, w.alpha.ID))
				res, raw = a.post(t, "PUT", "/shop/2fa-policy", "alpha", ownerCookie, map[string]any{"roles": []string{"admin", "tech"}})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"roles":["admin","tech"]`)
				requireSteps(t, since(shopLog(t, w, w.alpha.ID), mark), step{auth.ActionTwoFactorPolicyChange, ports.OutcomeSuccess})

				// The session made before the policy is stepped up to
				// enrolment, not served.
				res, raw = a.post(t, "GET", "/files", "alpha", adminBefore, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, raw)
				require.Contains(t, raw, "requires a second factor")
				// A fresh sign-in is told to enrol, and cannot skip it.
				c, s := signInPending(t, w, a, admin.Email)
				require.Equal(t, auth.PendingEnrol, s.SecondFactor)
				for _, r := range []struct{ method, path string }{{"GET", "/files"}, {"GET", "/auth/sessions"}, {"POST", "/auth/sessions/revoke-others"}} {
					res, raw := a.post(t, r.method, r.path, "alpha", c, nil)
					require.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s: %s", r.method, r.path, raw)
				}
				res, raw = a.post(t, "POST", "/auth/2fa/step-up", "alpha", c, map[string]string{"password": matrixPassword})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, _ = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "a password step-up is no enrolment")
				// A role the policy does not name is served.
				res, raw = a.post(t, "GET", "/files", "alpha", viewerCookie, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)

				enrolMember(t, a, c, admin.Email)
				res, raw = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "enrolled: served: %s", raw)

				// Every member now: the viewer's session, made before, is
				// stepped up too; the enrolled admin may not drop the factor.
				res, raw = a.post(t, "PUT", "/shop/2fa-policy", "alpha", ownerCookie, map[string]any{"all_members": true})
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				res, raw = a.post(t, "GET", "/files", "alpha", viewerCookie, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "the viewer's session, made before: %s", raw)
				res, raw = a.post(t, "GET", "/shop/2fa-policy", "alpha", ownerCookie, nil)
				require.Equal(t, http.StatusForbidden, res.StatusCode, "the owner, who has no factor either: %s", raw)
				res, raw = a.post(t, "GET", "/files", "alpha", c, nil)
				require.Equal(t, http.StatusOK, res.StatusCode, "the enrolled admin is still served: %s", raw)
				res, raw = a.post(t, "DELETE", "/auth/2fa/totp", "alpha", c, nil)
				require.Equal(t, http.StatusConflict, res.StatusCode, raw)

				// An Admin cannot change the policy.
				res, raw = a.post(t, "PUT", "/shop/2fa-policy", "alpha", c, map[string]any{"all_members": false})
				require.Equal(t, http.StatusForbidden, res.StatusCode, raw)
			})

			t.Run("OperatorWithoutSecondFactor", func(t *testing.T) {
				ctx := t.Context()
				op, err := a.auth.CreateOperator(ctx, "nofactor@ops.example.test", "", operatorPassword)
				require.NoError(t, err)
				opCookie := operatorSignIn(t, a, op.Email)
				res, _ := startImpersonation(t, a, opCookie, "alpha", w.byRole[ports.RoleViewer].Email, "ticket 1")
				p := problemOf(t, res, http.StatusForbidden)
				require.Contains(t, p.Detail, "second factor")
				require.Empty(t, impersonationsOf(t, w, w.alpha.ID), "nothing was started")

				// First sign-in: enrol, confirm, then impersonate.
				res = a.do(hcall{method: "POST", target: "/operator/2fa/totp/enrol", host: platformHost, operator: opCookie})
				raw := readBody(t, res)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				var en enrolJSON
				require.NoError(t, json.Unmarshal([]byte(raw), &en))
				w.canary.Secret("an operator's TOTP secret", en.Secret)
				w.totp.add(op.Email, en.Secret)
				res = a.do(hcall{method: "POST", target: "/operator/2fa/totp/confirm", host: platformHost, operator: opCookie,
					body: jsonOf(t, map[string]string{"code": "123"}), contentType: "application/json"})
				problemOf(t, res, http.StatusBadRequest)
				res = a.do(hcall{method: "POST", target: "/operator/2fa/totp/confirm", host: platformHost, operator: opCookie,
					body: jsonOf(t, map[string]string{"code": w.totp.code(t, w.clock, op.Email)}), contentType: "application/json"})
				raw = readBody(t, res)
				require.Equal(t, http.StatusOK, res.StatusCode, raw)
				require.Contains(t, raw, `"aal":2`)
				res, _ = startImpersonation(t, a, opCookie, "alpha", w.byRole[ports.RoleViewer].Email, "ticket 1")
				require.Equal(t, http.StatusCreated, res.StatusCode)

				// From now on a sign-in needs the code, once.
				res = a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: credentials(op.Email, operatorPassword), contentType: "application/json"})
				problemOf(t, res, http.StatusUnauthorized)
				code := w.totp.code(t, w.clock, op.Email)
				for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
					res = a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost,
						body: jsonOf(t, map[string]string{"email": op.Email, "password": operatorPassword, "code": code}), contentType: "application/json"})
					require.Equal(t, want, res.StatusCode, "sign-in %d with one code: %s", i, readBody(t, res))
				}
			})
		})
	}
}
