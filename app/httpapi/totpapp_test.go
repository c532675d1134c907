package httpapi_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
)

// totpApp plays the authenticator app of the accounts tests enrol: it
// holds their secrets and hands out the current code. A code works once
// (AUTH-11), so before handing out a code of a step it already gave an
// account, it advances the world's clock to the next step, as a person
// waits for the next code.
type totpApp struct {
	mu      sync.Mutex
	secrets map[string]string // account e-mail → base32 secret
	last    map[string]int64  // account e-mail → last step handed out
}

func (a *totpApp) add(email, secret string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.secrets == nil {
		a.secrets, a.last = map[string]string{}, map[string]int64{}
	}
	a.secrets[email] = secret
	delete(a.last, email)
}

func (a *totpApp) has(email string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.secrets[email]
	return ok
}

// code returns a fresh code of email's secret at clock's time.
func (a *totpApp) code(t testing.TB, clock *manualClock, email string) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	secret, ok := a.secrets[email]
	require.True(t, ok, "no TOTP secret enrolled for %s", email)
	now := clock.Now()
	step := now.Unix() / 30
	if last, used := a.last[email]; used && step <= last {
		clock.Advance(time.Duration((last+1)*30-now.Unix()) * time.Second)
		now = clock.Now()
		step = now.Unix() / 30
	}
	a.last[email] = step
	c, err := auth.TOTPCode(secret, now)
	require.NoError(t, err)
	return c
}

// jsonOf is v as a JSON body.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
