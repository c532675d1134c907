package cli_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// TestOperatorCreateWithTOTP (AUTH-18): `operator create --totp` prints
// the secret and URI once and writes the QR code; a sign-in without the
// code gets a session that cannot impersonate, the first sign-in with a
// code confirms the factor, and after that a code is required. `two-factor
// reset-operator` removes the factor.
func TestOperatorCreateWithTOTP(t *testing.T) {
	dir := t.TempDir()
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(dir, "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	const pw = "operator long passphrase"
	qr := filepath.Join(dir, "olga.png")
	out, err := runIn(t, env, pw+"\n", "operator", "create", "--email", "olga@ops.example.com", "--totp", "--qr", qr)
	require.NoError(t, err)
	m := regexp.MustCompile(`TOTP secret \(shown once\): ([A-Z2-7]+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	assert.Contains(t, out, "otpauth://totp/")
	f, err := os.Open(qr)
	require.NoError(t, err)
	_, err = png.Decode(f)
	f.Close()
	require.NoError(t, err, "the QR code file is a PNG")

	signIn := func(code string) (auth.OperatorIssued, error) {
		ctx := context.Background()
		cfg, err := app.LoadConfig(env, "")
		require.NoError(t, err)
		st, err := app.OpenStore(ctx, cfg, nil)
		require.NoError(t, err)
		defer st.Close()
		svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st, NoProviders: true})
		require.NoError(t, err)
		return svc.OperatorSignIn(ctx, auth.OperatorSignInInput{Email: "olga@ops.example.com", Password: pw, Code: code, Client: auth.Client{IP: "192.0.2.1"}})
	}
	is, err := signIn("")
	require.NoError(t, err, "a pending factor and no code: an enrol-only session")
	assert.Equal(t, ports.AAL1, is.Principal.AAL)
	code, err := auth.TOTPCode(m[1], time.Now())
	require.NoError(t, err)
	is, err = signIn(code)
	require.NoError(t, err)
	assert.Equal(t, ports.AAL2, is.Principal.AAL)
	assert.Len(t, is.RecoveryCodes, auth.RecoveryCodeCount, "confirming shows the recovery codes once")
	_, err = signIn("")
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a confirmed factor: the code is required")
	_, err = signIn(code)
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a code works once")

	out, err = runIn(t, env, "", "two-factor", "reset-operator", "--email", "olga@ops.example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "removed the second factor")
	is, err = signIn("")
	require.NoError(t, err)
	assert.Equal(t, ports.AAL1, is.Principal.AAL, "after a reset the operator enrols again")
}

// TestTwoFactorPolicyCommand (AUTH-13): set and show a shop's policy;
// bad input is refused with nothing written.
func TestTwoFactorPolicyCommand(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	out, err := runIn(t, env, "", "two-factor", "policy", "show", "--shop", "acme")
	require.NoError(t, err)
	assert.Equal(t, "second factor required of: nobody\n", out)
	out, err = runIn(t, env, "", "two-factor", "policy", "set", "--shop", "acme", "--roles", "Tech, owner")
	require.NoError(t, err)
	assert.Equal(t, "second factor required of: members with role owner, tech\n", out)
	_, err = runIn(t, env, "", "two-factor", "policy", "set", "--shop", "acme", "--roles", "root")
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = runIn(t, env, "", "two-factor", "policy", "set", "--shop", "acme", "--all", "--none")
	require.ErrorIs(t, err, ports.ErrInvalid)
	out, err = runIn(t, env, "", "two-factor", "policy", "show", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, out, "owner, tech", "the refused changes changed nothing")
	out, err = runIn(t, env, "", "two-factor", "policy", "set", "--shop", "acme", "--all")
	require.NoError(t, err)
	assert.Equal(t, "second factor required of: every member\n", out)
	_, err = runIn(t, env, "", "two-factor", "reset-user", "--email", "nobody@example.com")
	require.ErrorIs(t, err, ports.ErrNotFound)
}
