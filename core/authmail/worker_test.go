package authmail_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

// memOutbox is a worker side of the outbox in memory: what was claimed,
// and the outcomes recorded.
type memOutbox struct {
	due    []ports.AuthMail
	sent   map[ports.AuthMailID]string
	failed map[ports.AuthMailID]string
	dead   map[ports.AuthMailID]bool
}

func (q *memOutbox) ClaimAuthMail(_ context.Context, _ time.Time, limit int, _ time.Duration) ([]ports.AuthMail, error) {
	out := q.due[:min(limit, len(q.due))]
	q.due = q.due[len(out):]
	for i := range out {
		out[i].Attempts++
	}
	return out, nil
}

func (q *memOutbox) MarkAuthMailSent(_ context.Context, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	q.sent[m.ID] = providerID
	return m, nil
}

func (q *memOutbox) FailAuthMail(_ context.Context, m ports.AuthMail, reason string, _ time.Time, dead bool) (ports.AuthMail, error) {
	q.failed[m.ID], q.dead[m.ID] = reason, dead
	if dead {
		m.State = ports.AuthMailDead
	}
	return m, nil
}

func (q *memOutbox) DeleteEndedAuthMail(context.Context, time.Time) (int, error) { return 0, nil }

// sender answers each recipient as told and records what it was given.
type sender struct {
	answer map[string]error
	got    []ports.Email
}

func (s *sender) SendEmail(_ context.Context, m ports.Email) (ports.Sent, error) {
	s.got = append(s.got, m)
	if err := s.answer[m.To]; err != nil {
		return ports.Sent{}, err
	}
	return ports.Sent{ProviderID: "p-" + m.To}, nil
}

// TestWorkerDeliversRetriesAndGivesUp: a mail is sent opened, from the
// configured From, with its ID as the idempotency key, and marked sent; a
// provider outage is retried; a refusal, and a body that does not open
// (a row redirected to another recipient), end the mail dead without
// sending it.
func TestWorkerDeliversRetriesAndGivesUp(t *testing.T) {
	o, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	var mails []ports.AuthMail
	for _, to := range []string{"ok@example.com", "down@example.com", "refused@example.com", "redirected@example.com"} {
		var q queue
		require.NoError(t, o.Enqueue(context.Background(), &q, ports.AuthMailMagicLink, ports.Mail{To: to, Subject: "Your link", Text: "token=" + token}))
		mails = append(mails, q.got[0])
	}
	mails[3].To = "eve@example.com"
	q := &memOutbox{due: mails, sent: map[ports.AuthMailID]string{}, failed: map[ports.AuthMailID]string{}, dead: map[ports.AuthMailID]bool{}}
	s := &sender{answer: map[string]error{
		"down@example.com":    fmt.Errorf("connect: %w", ports.ErrUnavailable),
		"refused@example.com": fmt.Errorf("550 no such user: %w", ports.ErrInvalid),
	}}
	w, err := authmail.NewWorker(authmail.WorkerDeps{Outbox: o, Queue: q, Sender: s, From: "no-reply@example.com"}, authmail.WorkerConfig{})
	require.NoError(t, err)
	n, err := w.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, n)

	require.Len(t, s.got, 3, "the redirected mail is never sent")
	assert.Equal(t, ports.Email{From: "no-reply@example.com", To: "ok@example.com", Subject: "Your link", Text: "token=" + token,
		IdempotencyKey: mails[0].ID.String()}, s.got[0])
	assert.Equal(t, "p-ok@example.com", q.sent[mails[0].ID])
	assert.False(t, q.dead[mails[1].ID], "an outage is retried")
	assert.Contains(t, q.failed[mails[1].ID], "connect")
	assert.True(t, q.dead[mails[2].ID], "a refusal is final")
	assert.True(t, q.dead[mails[3].ID], "a body that does not open is final")
	assert.NotContains(t, q.failed[mails[3].ID], token)
	for _, e := range s.got {
		assert.NotEqual(t, "eve@example.com", e.To)
	}
}

func TestNewWorkerRefusesMissingDeps(t *testing.T) {
	_, err := authmail.NewWorker(authmail.WorkerDeps{}, authmail.WorkerConfig{})
	assert.ErrorIs(t, err, ports.ErrInvalid)
	o, err := authmail.New(key("k1", 1))
	require.NoError(t, err)
	_, err = authmail.NewWorker(authmail.WorkerDeps{Outbox: o, Queue: &memOutbox{}, Sender: &sender{}, From: "a@example.com"},
		authmail.WorkerConfig{Lease: 48 * time.Hour})
	assert.True(t, errors.Is(err, ports.ErrInvalid))
}
