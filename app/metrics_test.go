package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// scrape GETs url and returns the answer's content type and body.
func scrape(t *testing.T, url string) (status int, contentType, body string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func TestMetricsServedOnTheirOwnListenerWhenEnabled(t *testing.T) {
	cfg := fxConfig(t)
	cfg.Metrics.Enabled, cfg.Metrics.Listen = true, "127.0.0.1:0"
	var (
		srv     *app.Server
		msrv    *app.MetricsServer
		metrics *app.Metrics
		store   ports.Store
		runner  *jobs.Runner
	)
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}),
		fx.Supply(jobs.Config{PollInterval: 10 * time.Millisecond}),
		fx.Invoke(func(r *jobs.Runner) {
			r.Handle("quick", func(context.Context, ports.ShopTx, ports.Job) error { return nil })
		}),
		fx.Populate(&srv, &msrv, &metrics, &store, &runner))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()
	require.NotNil(t, msrv)
	require.NotNil(t, metrics)
	require.NotEqual(t, srv.Addr().String(), msrv.Addr().String())

	api, mx := "http://"+srv.Addr().String(), "http://"+msrv.Addr().String()+app.MetricsPath

	// A few requests: matched, matched with an ID in the path, unmatched
	// with an ID in the path.
	const fileID, junk = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "secret-token-Zq81x"
	assert.Equal(t, http.StatusOK, get(t, api+"/healthz"))
	assert.Equal(t, http.StatusOK, get(t, api+"/healthz"))
	get(t, api+"/files/"+fileID+"/download")
	assert.Equal(t, http.StatusNotFound, get(t, api+"/no/such/"+junk))
	// The API's own listener has no /metrics.
	assert.Equal(t, http.StatusNotFound, get(t, api+app.MetricsPath))

	// Units of work through the graph's store (one failing, one
	// panicking), and a background job.
	shop := seedTenants(t, store, 1)[0].shop
	require.Error(t, store.Global(ctx, func(context.Context, ports.GlobalTx) error { return errors.New("refused") }, ports.ReadOnly()))
	require.Panics(t, func() {
		_ = store.InShop(ctx, shop, func(context.Context, ports.ShopTx) error { panic("boom") })
	})
	job := enqueueJob(t, store, shop, ports.Job{ID: ports.NewJobID(), Kind: "quick"})
	runner.Wake()
	require.Eventually(t, func() bool { return jobIn(t, store, shop, job.ID).State == ports.JobDone }, 10*time.Second, 5*time.Millisecond)

	var body string
	require.Eventually(t, func() bool {
		status, ctype, b := scrape(t, mx)
		body = b
		return status == http.StatusOK && strings.Contains(b, `stockade_jobs_total{kind="quick",outcome="done"} 1`) &&
			strings.HasPrefix(ctype, "text/plain; version=0.0.4")
	}, 10*time.Second, 10*time.Millisecond, "the job's outcome is counted; last scrape:\n%s", body)

	// The answer is the Prometheus text format: it parses, and has the
	// named series.
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	for _, name := range []string{
		"stockade_http_requests_total", "stockade_http_request_duration_seconds",
		"stockade_store_units_total", "stockade_store_unit_duration_seconds",
		"stockade_password_hashes_in_flight", "stockade_password_hashes_waiting",
		"stockade_jobs_total", "stockade_job_duration_seconds",
		"stockade_outbox_messages_total",
		"go_goroutines",
	} {
		assert.Contains(t, families, name)
	}
	for _, want := range []string{
		`stockade_http_requests_total{method="GET",route="/healthz",status_class="2xx"} 2`,
		`route="/files/{file}/download"`,
		// /no/such/… and the API's /metrics
		`stockade_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 2`,
		`stockade_http_request_duration_seconds_count{method="GET",route="/healthz"} 2`,
		`stockade_store_units_total{mode="read_write",result="ok",scope="global"}`,
		`stockade_store_units_total{mode="read_only",result="ok",scope="shop"}`,
		`stockade_store_units_total{mode="read_only",result="error",scope="global"} 1`,
		`stockade_store_units_total{mode="read_write",result="panic",scope="shop"} 1`,
		`stockade_store_unit_duration_seconds_bucket{mode="read_write",scope="shop",le="+Inf"}`,
		`stockade_job_duration_seconds_count{kind="quick"} 1`,
		`stockade_outbox_messages_total{channel="email",outcome="sent"} 0`,
	} {
		assert.Contains(t, body, want)
	}
	// (The hashing gauges' values depend on the dummy hash AuthModule
	// computes in the background at start; passhash tests the counts.)

	// Label values are route patterns, never a request's path.
	assert.NotContains(t, body, fileID)
	assert.NotContains(t, body, junk)
	assert.NotContains(t, body, "/no/such")

	// Only GET /metrics is served there.
	assert.Equal(t, http.StatusNotFound, get(t, "http://"+msrv.Addr().String()+"/healthz"))
}

func TestMetricsAreOffByDefault(t *testing.T) {
	if app.Default().Metrics.Enabled {
		t.Fatal("Default() enables the metrics")
	}
	cfg := fxConfig(t)
	var (
		srv     *app.Server
		msrv    *app.MetricsServer
		metrics *app.Metrics
	)
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Populate(&srv, &msrv, &metrics))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()
	assert.Nil(t, msrv, "no metrics listener")
	assert.Nil(t, metrics, "nothing counted")
	assert.Equal(t, http.StatusNotFound, get(t, "http://"+srv.Addr().String()+app.MetricsPath))
}

func TestMetricsSettingsLoad(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"STOCKADE_METRICS_ENABLED=true", "STOCKADE_METRICS_LISTEN=127.0.0.1:9999"}, "")
	require.NoError(t, err)
	assert.True(t, cfg.Metrics.Enabled)
	assert.Equal(t, "127.0.0.1:9999", cfg.Metrics.Listen)

	cfg, err = app.LoadConfig(nil, "")
	require.NoError(t, err)
	assert.False(t, cfg.Metrics.Enabled)
	assert.Equal(t, app.DefaultMetricsListen, cfg.Metrics.ListenAddr())
	assert.True(t, strings.HasPrefix(cfg.Metrics.ListenAddr(), "127.0.0.1:"), "loopback by default")
	cfg.Metrics.Enabled = true
	require.NoError(t, cfg.Validate(), "enabled with the default listener")
}

func TestMetricsCountOutboxOutcomes(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
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
	wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, SMS: sender, Email: sender, Observer: m},
		messaging.WorkerConfig{Lease: time.Minute, SendTimeout: 10 * time.Second, Backoff: func(int) time.Duration { return 0 }})
	require.NoError(t, err)

	_, err = w.enqueue(w.as(0, ports.RoleSales), shop, receipt("ann@example.com"))
	require.NoError(t, err)
	drainOutbox(t, wk) // call 1 fails (retry), call 2 sends
	_, err = w.enqueue(w.as(0, ports.RoleSales), shop, receipt("gone@example.com"))
	require.NoError(t, err)
	drainOutbox(t, wk) // call 3 is refused for good (dead)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, app.MetricsPath, nil))
	body := rec.Body.String()
	for _, want := range []string{
		`stockade_outbox_messages_total{channel="email",outcome="retry"} 1`,
		`stockade_outbox_messages_total{channel="email",outcome="sent"} 1`,
		`stockade_outbox_messages_total{channel="email",outcome="dead"} 1`,
		`stockade_outbox_messages_total{channel="sms",outcome="sent"} 0`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "stockade_password_hashes", "no hasher, no hashing gauges")
}

// TestMetricsCountPageRequests: the pages served in front of the API
// (app/web) are in the API's HTTP series, labelled by the page's route
// pattern; each request is counted once, by whichever of the two served
// it; a token in a query string is in no label.
func TestMetricsCountPageRequests(t *testing.T) {
	cfg := fxConfig(t)
	cfg.Metrics.Enabled, cfg.Metrics.Listen = true, "127.0.0.1:0"
	var (
		srv   *app.Server
		msrv  *app.MetricsServer
		store ports.Store
	)
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Populate(&srv, &msrv, &store))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()
	seedTenants(t, store, 1)
	base := "http://" + srv.Addr().String()

	const token = "s3cr3t-Zq81xTOKEN"
	// One keep-alive connection for every request, each body read to its
	// end: the server reads a connection's next request only after the
	// previous one's handler, and so its metrics, is done. The client can
	// have a whole answer (the 9 KB stylesheet) before that.
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = "shop-0.localhost"
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		return res.StatusCode
	}
	assert.Equal(t, http.StatusOK, send(http.MethodGet, "/signin", ""))
	send(http.MethodPost, "/signin", "email=shop-0%40example.com&password=wrong-password")
	assert.Equal(t, http.StatusOK, send(http.MethodGet, "/stockade/stockade.css", ""))
	send(http.MethodGet, "/password-reset/new?token="+token, "") // a page's mailed link
	send(http.MethodGet, "/auth/magic-link?token="+token, "")    // the API's mailed link
	send(http.MethodGet, "/healthz", "")                         // the requests above are counted once this is read

	_, _, all := scrape(t, "http://"+msrv.Addr().String()+app.MetricsPath)
	var lines []string // the HTTP series' lines, short enough to read in a failure
	for _, line := range strings.Split(all, "\n") {
		if strings.HasPrefix(line, "stockade_http_requests_total") || strings.HasPrefix(line, "stockade_http_request_duration_seconds_count") {
			lines = append(lines, line)
		}
	}
	body := strings.Join(lines, "\n")
	for _, want := range []string{
		`stockade_http_requests_total{method="GET",route="/signin",status_class="2xx"} 1`,
		`stockade_http_request_duration_seconds_count{method="GET",route="/signin"} 1`,
		`stockade_http_request_duration_seconds_count{method="POST",route="/signin"} 1`,
		`stockade_http_requests_total{method="GET",route="/stockade/stockade.css",status_class="2xx"} 1`,
		`stockade_http_request_duration_seconds_count{method="GET",route="/password-reset/new"} 1`,
		// A request no page matches falls through to the API, which
		// counts it once.
		`stockade_http_request_duration_seconds_count{method="GET",route="/auth/magic-link"} 1`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, `route="unmatched"`, "every request above matched a page or an API route")
	assert.NotContains(t, all, token)
	assert.NotContains(t, all, "shop-0")
}
