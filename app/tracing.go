package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/ports"
)

// TracerName is the instrumentation scope of Stockade's own spans (units
// of work); the HTTP spans are otelhttp's.
const TracerName = "github.com/stockadehq/stockade/app"

// Span attributes Stockade sets besides OpenTelemetry's HTTP ones.
const (
	// AttrShopID is the shop of an InShop unit of work (a UUID).
	AttrShopID = "stockade.shop_id"
	// AttrReadOnly tells whether a unit of work ran ports.ReadOnly.
	AttrReadOnly = "stockade.read_only"
)

// Tracing is Stockade's OpenTelemetry tracing: a span per HTTP request
// (otelhttp's, named "METHOD /route/{pattern}" once the router matched)
// and, as its child, a span per unit of work ("stockade.InShop" with
// AttrShopID and AttrReadOnly, "stockade.Global" with AttrReadOnly).
//
// Spans carry no personal data and no secrets: the HTTP span sees a copy
// of the request without its path, query, host, client address or
// headers (so no cookie, token, Authorization or User-Agent), keeping
// only the method and the W3C trace context; its route is the matched
// pattern, never the path. Unit-of-work spans record an error or a panic
// as the span's status without the error's text, which may quote input.
// Every request starts a new trace: a caller's traceparent becomes a link,
// not the parent, since the API is public.
//
// A nil *Tracing traces nothing; its methods are safe to call. Build one
// with NewTracing (OTLP export) or NewTracingFor (a provider of the
// caller's, such as the SDK's with tracetest's span recorder).
type Tracing struct {
	tp       trace.TracerProvider
	tracer   trace.Tracer
	shutdown func(context.Context) error
}

// NewTracingFor returns the tracing that records to tp, which the caller
// owns and shuts down (Shutdown does nothing). A nil tp returns nil.
func NewTracingFor(tp trace.TracerProvider) *Tracing {
	if tp == nil {
		return nil
	}
	return &Tracing{tp: tp, tracer: tp.Tracer(TracerName), shutdown: func(context.Context) error { return nil }}
}

// NewTracing returns the tracing cfg asks for: nil when cfg.Enabled is
// false, else an SDK tracer provider that batches spans to an OTLP/HTTP
// exporter posting to cfg.EndpointURL()+"/v1/traces", with service.name
// "stockade". Nothing is sent until the first span ends; an unreachable
// collector loses spans, never requests. Call Shutdown to flush.
func NewTracing(ctx context.Context, cfg TracingConfig) (*Tracing, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, errs[0]
	}
	endpoint, err := url.JoinPath(cfg.EndpointURL(), "v1", "traces")
	if err != nil {
		return nil, fmt.Errorf("tracing: endpoint: %w", err)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", "stockade"))),
	)
	return &Tracing{tp: tp, tracer: tp.Tracer(TracerName), shutdown: tp.Shutdown}, nil
}

// TracerProvider returns the provider spans go to: OpenTelemetry's no-op
// one on a nil *Tracing. An embedding app may trace its own work with it.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if t == nil {
		return noop.NewTracerProvider()
	}
	return t.tp
}

// Shutdown flushes and stops the exporter NewTracing started; it does
// nothing on a nil *Tracing or one from NewTracingFor.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Handler returns h with a span around every request (see Tracing); on a
// nil *Tracing it returns h itself. The span is named by the route pattern
// when h is the Stockade API (whose access log names the request's span)
// or another handler that names it; otherwise by the method alone.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	type origKey struct{}
	inner := http.HandlerFunc(func(w http.ResponseWriter, bare *http.Request) {
		orig, _ := bare.Context().Value(origKey{}).(*http.Request)
		if orig == nil { // cannot happen: the outer handler stored it
			orig = bare
		}
		h.ServeHTTP(w, orig.WithContext(bare.Context()))
	})
	traced := otelhttp.NewHandler(inner, "http",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // the Prometheus metrics count requests
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, bareRequest(r).WithContext(context.WithValue(r.Context(), origKey{}, r)))
	})
}

// bareRequest is the copy of r otelhttp sees: its method (a standard one,
// else "OTHER"), protocol, TLS state and trace-context headers, and none
// of its path, query, host, client address, other headers or body.
func bareRequest(r *http.Request) *http.Request {
	b := &http.Request{
		Method:     standardMethod(r.Method),
		URL:        &url.URL{},
		Proto:      r.Proto,
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
		Header:     http.Header{},
		Body:       http.NoBody,
		TLS:        r.TLS,
	}
	for _, k := range (propagation.TraceContext{}).Fields() {
		if v := r.Header.Values(k); len(v) > 0 {
			b.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	return b.WithContext(r.Context())
}

// standardMethod returns method if it is one of RFC 9110's (or PATCH),
// and "OTHER" for anything a client made up.
func standardMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// startUnit starts the span of a unit of work of scope "InShop" or
// "Global" (shop is zero for Global), and returns the context for the
// unit and the function that ends the span with its outcome. On a nil
// *Tracing it returns ctx and a no-op.
func (t *Tracing) startUnit(ctx context.Context, scope string, shop ports.ShopID, opts []ports.TxOption) (context.Context, func(err error, panicked bool)) {
	if t == nil {
		return ctx, func(error, bool) {}
	}
	attrs := []attribute.KeyValue{attribute.Bool(AttrReadOnly, ports.ApplyTxOptions(opts).ReadOnly)}
	if scope == "InShop" {
		attrs = append(attrs, attribute.String(AttrShopID, shop.String()))
	}
	ctx, span := t.tracer.Start(ctx, "stockade."+scope, trace.WithAttributes(attrs...), trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func(err error, panicked bool) {
		switch {
		case panicked:
			span.SetStatus(codes.Error, "panic")
		case err != nil:
			span.SetStatus(codes.Error, "error") // never err's text: it may quote input
		}
		span.End()
	}
}

// tracerProviderOption is the provider WithTracerProvider supplies.
type tracerProviderOption struct{ trace.TracerProvider }

// WithTracerProvider makes TracingModule trace to tp (which the caller
// owns and shuts down) whatever Config.Tracing says: for an app with its
// own OpenTelemetry set-up, or a test with tracetest's span recorder.
func WithTracerProvider(tp trace.TracerProvider) fx.Option {
	return fx.Supply(tracerProviderOption{tp})
}

// TracingModule provides the *Tracing: the one over WithTracerProvider's
// provider when given, else NewTracing's for Config.Tracing — nil when
// tracing is off (the default), and then nothing is traced. Exporting, it
// is flushed and shut down in OnStop. The HTTP server wraps the API in
// Tracing.Handler and the store traces its units of work.
func TracingModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Lifecycle fx.Lifecycle
		Own       tracerProviderOption `optional:"true"`
	}
	return fx.Module("stockade.tracing", fx.Provide(func(p params) (*Tracing, error) {
		if p.Own.TracerProvider != nil {
			return NewTracingFor(p.Own.TracerProvider), nil
		}
		t, err := NewTracing(context.Background(), p.Config.Tracing)
		if err != nil || t == nil {
			return nil, err
		}
		p.Lifecycle.Append(fx.StopHook(t.Shutdown))
		return t, nil
	}))
}
