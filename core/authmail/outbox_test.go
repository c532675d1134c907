package authmail_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

// queue keeps what was enqueued.
type queue struct{ got []ports.AuthMail }

func (q *queue) Enqueue(_ context.Context, m ports.AuthMail) (ports.AuthMail, error) {
	if err := m.Validate(); err != nil {
		return ports.AuthMail{}, err
	}
	q.got = append(q.got, m)
	return m, nil
}

func key(id string, b byte) authmail.Key {
	return authmail.Key{ID: id, Secret: bytes.Repeat([]byte{b}, 32)}
}

const token = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

func enqueue(t *testing.T, o *authmail.Outbox) ports.AuthMail {
	t.Helper()
	var q queue
	require.NoError(t, o.Enqueue(context.Background(), &q, ports.AuthMailMagicLink, ports.Mail{
		To: " Ada@Example.com ", Subject: "Your sign-in link", Text: "https://acme.example.com/auth/magic-link?token=" + token,
	}))
	require.Len(t, q.got, 1)
	return q.got[0]
}

func TestSealedBodyHoldsNoTokenAndOpens(t *testing.T) {
	o, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	m := enqueue(t, o)
	assert.Equal(t, "ada@example.com", m.To)
	assert.NotContains(t, string(m.Sealed), token, "the stored row holds no usable token")
	assert.NotContains(t, string(m.Sealed), "magic-link")
	got, err := o.Open(m)
	require.NoError(t, err)
	assert.Contains(t, got.Text, token)
}

func TestAlteredRowDoesNotOpen(t *testing.T) {
	o, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	m := enqueue(t, o)
	for name, mutate := range map[string]func(*ports.AuthMail){
		"redirected":    func(m *ports.AuthMail) { m.To = "eve@example.com" },
		"other subject": func(m *ports.AuthMail) { m.Subject = "hello" },
		"other kind":    func(m *ports.AuthMail) { m.Kind = ports.AuthMailReset },
		"other row":     func(m *ports.AuthMail) { m.ID = ports.NewAuthMailID() },
		"flipped bit":   func(m *ports.AuthMail) { m.Sealed = append([]byte(nil), m.Sealed...); m.Sealed[len(m.Sealed)-1] ^= 1 },
		"truncated":     func(m *ports.AuthMail) { m.Sealed = m.Sealed[:3] },
	} {
		alt := m
		mutate(&alt)
		_, err := o.Open(alt)
		assert.ErrorIs(t, err, ports.ErrInvalid, name)
	}
}

func TestKeyRotation(t *testing.T) {
	old, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	m := enqueue(t, old)
	rotated, err := authmail.New(key("k2", 2), key("k1", 1))
	require.NoError(t, err)
	_, err = rotated.Open(m)
	require.NoError(t, err, "the old key still opens")
	gone, err := authmail.New(key("k2", 2))
	require.NoError(t, err)
	_, err = gone.Open(m)
	assert.ErrorIs(t, err, ports.ErrInvalid, "a removed key opens nothing")
	same, err := authmail.New(authmail.Key{ID: "k1", Secret: bytes.Repeat([]byte{3}, 32)})
	require.NoError(t, err)
	_, err = same.Open(m)
	assert.ErrorIs(t, err, ports.ErrInvalid, "another secret under the same ID opens nothing")
}

func TestNewAndEnqueueRefuseBadInput(t *testing.T) {
	_, err := authmail.New()
	assert.ErrorIs(t, err, ports.ErrInvalid)
	_, err = authmail.New(authmail.Key{ID: "k1", Secret: []byte("short")})
	assert.ErrorIs(t, err, ports.ErrInvalid)
	_, err = authmail.New(key("k1", 1), key("k1", 2))
	assert.ErrorIs(t, err, ports.ErrInvalid)
	o, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	var q queue
	for _, m := range []ports.Mail{
		{To: "not an address", Subject: "s", Text: "t"},
		{To: "ada@example.com", Subject: "s\r\nBcc: eve@example.com", Text: "t"},
		{To: "ada@example.com", Subject: "s"},
	} {
		assert.ErrorIs(t, o.Enqueue(context.Background(), &q, ports.AuthMailMagicLink, m), ports.ErrInvalid)
	}
	assert.ErrorIs(t, o.Enqueue(context.Background(), &q, "spam", ports.Mail{To: "ada@example.com", Subject: "s", Text: "t"}), ports.ErrInvalid)
	assert.Empty(t, q.got)
}
