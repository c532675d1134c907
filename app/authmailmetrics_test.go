package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

func TestMetricsCountAuthMailOutcomesAndQueueAge(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
	cfg := fxConfig(t)
	outbox, err := app.NewAuthMailOutbox(cfg)
	require.NoError(t, err)
	m, err := app.NewMetrics(app.MetricsParts{})
	require.NoError(t, err)
	sender := &recordingSender{fail: func(n int) error {
		switch n {
		case 1:
			return fmt.Errorf("provider answered 503: %w", ports.ErrUnavailable)
		case 3:
			return ports.Invalid("to", "mailbox does not exist")
		}
		return nil
	}}
	wk, err := app.NewAuthMailWorker(cfg, app.AuthMailParts{Outbox: outbox, Store: w.st, Sender: sender, Clock: w.clock, Metrics: m},
		authmail.WorkerConfig{Lease: time.Minute, SendTimeout: 10 * time.Second, Backoff: func(int) time.Duration { return 0 }})
	require.NoError(t, err)
	enqueue := func(to string) {
		t.Helper()
		require.NoError(t, w.st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			return outbox.Enqueue(ctx, tx.AuthMail(), ports.AuthMailMagicLink, ports.Mail{To: to, Subject: "Your sign-in link", Text: "https://example.test/auth/magic?token=x"})
		}))
	}
	drain := func() {
		t.Helper()
		for range 10 {
			n, err := wk.RunOnce(context.Background())
			require.NoError(t, err)
			if n == 0 {
				return
			}
		}
		t.Fatal("the auth mail queue did not drain")
	}

	// The worker's clock runs 90 s ahead of the store's: a fresh mail has
	// waited 90 s when claimed, a retry due at once has waited 0 s.
	w.clock.Add(90 * time.Second)
	enqueue("ann@example.com")
	drain() // call 1 fails (retry), call 2 sends
	enqueue("gone@example.com")
	drain() // call 3 is refused for good (dead)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, app.MetricsPath, nil))
	body := rec.Body.String()
	for _, want := range []string{
		`stockade_auth_mail_total{kind="magic_link",outcome="retry"} 1`,
		`stockade_auth_mail_total{kind="magic_link",outcome="sent"} 1`,
		`stockade_auth_mail_total{kind="magic_link",outcome="dead"} 1`,
		`stockade_auth_mail_total{kind="magic_link",outcome="lost"} 0`,
		`stockade_auth_mail_total{kind="invitation",outcome="sent"} 0`,
		`stockade_auth_mail_queue_age_seconds_bucket{kind="magic_link",le="60"} 1`,
		`stockade_auth_mail_queue_age_seconds_bucket{kind="magic_link",le="300"} 3`,
		`stockade_auth_mail_queue_age_seconds_count{kind="magic_link"} 3`,
		`stockade_auth_mail_queue_age_seconds_count{kind="reset"} 0`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "example.com", "no recipient in any series")
}
