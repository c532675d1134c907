package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// tracedApp starts the app for cfg with its spans going to a recorder,
// and returns the API's base URL, the store and the recorder.
func tracedApp(t *testing.T, cfg app.Config) (string, ports.Store, *tracetest.SpanRecorder, trace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var (
		srv   *app.Server
		store ports.Store
	)
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), app.WithTracerProvider(tp), fx.Populate(&srv, &store))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { require.NoError(t, a.Stop(ctx)) })
	return "http://" + srv.Addr().String(), store, rec, tp
}

func TestTracingSpansRequestsAndUnitsOfWorkWithoutSecrets(t *testing.T) {
	base, store, rec, _ := tracedApp(t, fxConfig(t))
	shop := seedTenants(t, store, 1)[0]
	n0 := len(rec.Ended())

	// A request carrying every kind of secret a client sends: a session
	// cookie, a bearer token, a token in the path and the query, an
	// e-mail address, a forwarded client address and a user agent.
	const secret = "s3cr3t-Zq81xTOKEN"
	const email = "victim@example.com"
	req, err := http.NewRequest(http.MethodGet, base+"/files/"+shop.file.String()+"/download?token="+secret+"&email="+email, nil)
	require.NoError(t, err)
	req.Host = "shop-0.localhost"
	req.AddCookie(&http.Cookie{Name: "__Host-stockade_session", Value: secret})
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("User-Agent", "agent-"+secret)
	req.Header.Set("X-Forwarded-For", "203.0.113.77")
	req.Header.Set("From", email)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())

	spans := rec.Ended()[n0:]
	var httpSpan sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindServer {
			require.Nil(t, httpSpan, "one HTTP span per request")
			httpSpan = s
		}
	}
	require.NotNil(t, httpSpan, "the request has a server span")
	assert.Equal(t, "GET /files/{file}/download", httpSpan.Name())
	attrs := map[string]string{}
	for _, kv := range httpSpan.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, "/files/{file}/download", attrs["http.route"])
	assert.Equal(t, "GET", attrs["http.request.method"])
	assert.NotEmpty(t, attrs["http.response.status_code"])

	var units []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == httpSpan.SpanContext().SpanID() && strings.HasPrefix(s.Name(), "stockade.") {
			units = append(units, s)
		}
	}
	require.NotEmpty(t, units, "the request's units of work are children of its span")
	for _, u := range units {
		assert.Contains(t, []string{"stockade.InShop", "stockade.Global"}, u.Name())
		var ro bool
		for _, kv := range u.Attributes() {
			if kv.Key == app.AttrReadOnly {
				ro = true
			}
		}
		assert.True(t, ro, "%s has %s", u.Name(), app.AttrReadOnly)
	}

	for _, s := range spans {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, string(kv.Key)+"="+kv.Value.String())
		}
		for _, e := range s.Events() {
			texts = append(texts, e.Name)
			for _, kv := range e.Attributes {
				texts = append(texts, string(kv.Key)+"="+kv.Value.String())
			}
		}
		for _, l := range s.Links() {
			for _, kv := range l.Attributes {
				texts = append(texts, string(kv.Key)+"="+kv.Value.String())
			}
		}
		for _, txt := range texts {
			assert.NotContains(t, txt, secret, "span %q", s.Name())
			assert.NotContains(t, txt, email, "span %q", s.Name())
			assert.NotContains(t, txt, "203.0.113.77", "span %q", s.Name())
			assert.NotContains(t, txt, shop.file.String(), "span %q: the path's ID", s.Name())
		}
	}
}

func TestTracingSpansAnInShopUnitWithItsShopAndMode(t *testing.T) {
	_, store, rec, tp := tracedApp(t, fxConfig(t))
	shop := seedTenants(t, store, 1)[0].shop
	// The units run inside a span of the test's, so that the background
	// workers' units of work are told apart.
	ctx, parent := tp.Tracer("test").Start(context.Background(), "test")
	require.NoError(t, store.InShop(ctx, shop, func(context.Context, ports.ShopTx) error { return nil }, ports.ReadOnly()))
	require.Panics(t, func() {
		_ = store.InShop(ctx, shop, func(context.Context, ports.ShopTx) error { panic("boom") })
	})
	parent.End()
	var spans []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() {
			spans = append(spans, s)
		}
	}
	require.Len(t, spans, 2)
	for i, s := range spans {
		assert.Equal(t, "stockade.InShop", s.Name())
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		assert.Equal(t, shop.String(), attrs[app.AttrShopID])
		assert.Equal(t, map[int]string{0: "true", 1: "false"}[i], attrs[app.AttrReadOnly])
	}
	assert.Equal(t, "Unset", spans[0].Status().Code.String())
	assert.Equal(t, "Error", spans[1].Status().Code.String())
	assert.Equal(t, "panic", spans[1].Status().Description)
}

func TestTracingIsOffByDefault(t *testing.T) {
	cfg := fxConfig(t)
	var tr *app.Tracing
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Populate(&tr))
	require.NoError(t, a.Err())
	assert.Nil(t, tr, "no tracing unless enabled")
	_, isNoop := tr.TracerProvider().Tracer("x").Start(context.Background(), "y")
	assert.False(t, isNoop.IsRecording(), "the default provider records nothing")
}

func TestTracingSettingsLoad(t *testing.T) {
	load := func(endpoint string) (app.Config, error) {
		t.Helper()
		cfg, err := app.LoadConfig([]string{"STOCKADE_TRACING_ENABLED=true", "STOCKADE_TRACING_ENDPOINT=" + endpoint}, "")
		require.NoError(t, err)
		return cfg, cfg.Validate()
	}
	cfg, err := load("https://otel.internal:4318")
	require.NoError(t, err)
	assert.True(t, cfg.Tracing.Enabled)
	assert.Equal(t, "https://otel.internal:4318", cfg.Tracing.EndpointURL())
	for _, bad := range []string{"otel.internal:4318", "https://user:pw@otel.internal:4318", "http:///v1", "http://otel.internal:4318/?x=1"} {
		_, err = load(bad)
		require.ErrorContains(t, err, "STOCKADE_TRACING_ENDPOINT", bad)
	}

	cfg, err = app.LoadConfig(nil, "")
	require.NoError(t, err)
	assert.False(t, cfg.Tracing.Enabled, "off by default")
	assert.Equal(t, app.DefaultTracingEndpoint, cfg.Tracing.EndpointURL())
}

func TestTracingExportsOverOTLPWhenEnabled(t *testing.T) {
	tr, err := app.NewTracing(context.Background(), app.TracingConfig{Enabled: true, Endpoint: "http://127.0.0.1:1"})
	require.NoError(t, err)
	require.NotNil(t, tr)
	_, span := tr.TracerProvider().Tracer("x").Start(context.Background(), "y")
	assert.True(t, span.IsRecording())
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tr.Shutdown(ctx) // the collector is unreachable: the spans are lost, the shutdown returns
	off, err := app.NewTracing(context.Background(), app.TracingConfig{})
	require.NoError(t, err)
	assert.Nil(t, off)
}
