package canary

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fakeT records what the Sink would fail with.
type fakeT struct {
	testing.TB
	cleanups []func()
}

func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Helper()           {}

func TestSinkFindsEveryKind(t *testing.T) {
	s := New(&fakeT{TB: t})
	s.Secret("ann's password", "correct-horse-battery")
	_, _ = s.Write([]byte(`{"msg":"sign-in","password":"correct-horse-battery"}` + "\n"))
	s.SeenError("error", errors.New("send: https://acme.example.test/auth/magic-link?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA failed"))
	s.Secret("a card number", "4242424242424242")
	s.Seen("problem body", `{"detail":"card 4242424242424242 refused"}`)
	leaks := s.Leaks()
	assert.Len(t, leaks, 3, "%v", leaks)
	assert.Contains(t, leaks[0], "ann's password appeared in log")
	assert.NotContains(t, leaks[0], "correct-horse-battery", "the secret is not repeated")
	assert.Contains(t, leaks[1], "a link token appeared in error")
	assert.Contains(t, leaks[2], "a card number appeared in problem body")
}

func TestSinkQuietWhenClean(t *testing.T) {
	s := New(&fakeT{TB: t})
	s.Secret("a session cookie", "s1.abcdefghijklmnop")
	_, _ = s.Write([]byte(`{"msg":"signed in","session":"0190c0de-0000-7000-8000-000000000000"}`))
	s.Seen("problem body", `{"detail":"sign-in link is invalid, used or expired"}`)
	assert.Empty(t, s.Leaks())
}
