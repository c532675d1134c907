package app

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// MetricsPath is where the metrics listener serves the metrics.
const MetricsPath = "/metrics"

// Metrics holds Stockade's Prometheus metrics in a registry of its own
// (never the client library's global one). Its series, all prefixed
// stockade_:
//
//	http_requests_total{method,route,status_class}   counter
//	http_request_duration_seconds{method,route}      histogram
//	store_units_total{scope,mode,result}             counter
//	store_unit_duration_seconds{scope,mode}          histogram
//	password_hashes_in_flight, password_hashes_waiting  gauges
//	jobs_total{kind,outcome}                         counter
//	job_duration_seconds{kind}                       histogram
//	outbox_messages_total{channel,outcome}           counter
//	auth_mail_total{kind,outcome}                    counter
//	auth_mail_queue_age_seconds{kind}                histogram
//
// route is the matched route pattern ("/files/{id}") or "unmatched",
// never a request's path, which may hold IDs and credentials; method is a
// standard method or "OTHER"; status_class is "2xx" … "5xx". scope is
// "shop" (ports.Store.InShop) or "global", mode "read_only" or
// "read_write", result "ok", "error" or "panic". kind is a registered job
// kind or jobs.UnregisteredKind; the outcomes are jobs.Outcome and
// messaging.Outcome. For auth mail (sign-in links, invitations; see
// AuthMailOutcome) kind is a ports.AuthMailKind, outcome "sent", "retry",
// "dead" or "lost" (failed = retry + dead), and the queue age is the time
// from when a mail was due to its claim by a worker. The registry also has the Go runtime and process
// collectors.
//
// The observer methods are safe for concurrent use and do nothing on a
// nil *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	units        *prometheus.CounterVec
	unitDuration *prometheus.HistogramVec
	jobs         *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	outbox       *prometheus.CounterVec
	authMail     *prometheus.CounterVec
	authMailAge  *prometheus.HistogramVec
}

// MetricsParts are what NewMetrics observes besides what is reported to
// it; every field is optional.
type MetricsParts struct {
	// Hasher's queue (passhash.Hasher.Load) becomes the
	// password_hashes_in_flight and password_hashes_waiting gauges.
	Hasher *passhash.Hasher
}

// NewMetrics returns the metrics with every series registered in a new
// registry. Hand it to the parts that report to it: httpapi.Deps.Requests and
// web.Deps.Requests (the pages served in front of the API),
// JobParts.Observer, OutboxParts.Observer and AuthMailParts.Metrics. Units of work are counted
// by the store StoreModule provides when the graph has the metrics
// (MetricsModule wires all of it).
func NewMetrics(p MetricsParts) (*Metrics, error) {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockade_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status class.",
		}, []string{"method", "route", "status_class"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockade_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		units: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockade_store_units_total",
			Help: "Units of work (store transactions) ended, by scope (shop, global), mode (read_only, read_write) and result (ok, error, panic).",
		}, []string{"scope", "mode", "result"}),
		unitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockade_store_unit_duration_seconds",
			Help:    "Duration of units of work, by scope and mode, waiting for a connection included.",
			Buckets: prometheus.DefBuckets,
		}, []string{"scope", "mode"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockade_jobs_total",
			Help: "Background job attempts ended, by kind and outcome (done, retry, dead, lost).",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockade_job_duration_seconds",
			Help:    "Duration of background job attempts, by kind.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind"}),
		outbox: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockade_outbox_messages_total",
			Help: "Outbox delivery attempts ended, by channel and outcome (sent, retry, dead, cancelled, deferred, unknown, in_doubt, lost).",
		}, []string{"channel", "outcome"}),
		authMail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockade_auth_mail_total",
			Help: "Auth mail (sign-in links, invitations, verification, reset) delivery attempts ended, by kind and outcome (sent, retry, dead, lost).",
		}, []string{"kind", "outcome"}),
		authMailAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockade_auth_mail_queue_age_seconds",
			Help:    "Time from when an auth mail was due (enqueued, or its retry time) to its claim by a worker, by kind.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"kind"}),
	}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.units, m.unitDuration, m.jobs, m.jobDuration, m.outbox,
		m.authMail, m.authMailAge,
	}
	if h := p.Hasher; h != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "stockade_password_hashes_in_flight",
				Help: "Password hashes and verifications computing now.",
			}, func() float64 { return float64(h.Load().InFlight) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "stockade_password_hashes_waiting",
				Help: "Password hashes and verifications waiting for the hashing memory budget (STOCKADE_AUTH_MAX_CONCURRENT_HASHES).",
			}, func() float64 { return float64(h.Load().Waiting) }),
		)
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	// Every outbox series from the start, so rates have a zero to start
	// from: the channels and outcomes are few and known.
	for _, ch := range []ports.Channel{ports.ChannelSMS, ports.ChannelEmail} {
		for _, o := range []messaging.Outcome{messaging.OutcomeSent, messaging.OutcomeRetry, messaging.OutcomeDead,
			messaging.OutcomeCancelled, messaging.OutcomeDeferred, messaging.OutcomeUnknown, messaging.OutcomeInDoubt, messaging.OutcomeLost} {
			m.outbox.WithLabelValues(string(ch), string(o))
		}
	}
	for _, k := range authMailKinds {
		m.authMailAge.WithLabelValues(string(k))
		for _, o := range []AuthMailOutcome{AuthMailOutcomeSent, AuthMailOutcomeRetry, AuthMailOutcomeDead, AuthMailOutcomeLost} {
			m.authMail.WithLabelValues(string(k), string(o))
		}
	}
	return m, nil
}

// Registry is the metrics' own registry: an embedding app may register
// its collectors there to have them served at the same /metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or another
// format the scraper's Accept header asks for).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: 4})
}

var (
	_ httpapi.RequestObserver = (*Metrics)(nil)
	_ jobs.Observer           = (*Metrics)(nil)
	_ messaging.Observer      = (*Metrics)(nil)
)

// ObserveRequest implements httpapi.RequestObserver.
func (m *Metrics) ObserveRequest(method, route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(method, route, statusClass(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(took.Seconds())
}

// statusClass is "2xx" for 200 to 299 and so on; "other" outside 100–599.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// JobEnded implements jobs.Observer.
func (m *Metrics) JobEnded(kind string, outcome jobs.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, string(outcome)).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(took.Seconds())
}

// MessageEnded implements messaging.Observer.
func (m *Metrics) MessageEnded(channel ports.Channel, outcome messaging.Outcome) {
	if m == nil {
		return
	}
	m.outbox.WithLabelValues(string(channel), string(outcome)).Inc()
}

// observeUnit counts one unit of work of scope ("shop" or "global") that
// ran with opts, took took and ended with err (panicked: it panicked). It
// does nothing on a nil *Metrics.
func (m *Metrics) observeUnit(scope string, opts []ports.TxOption, err error, panicked bool, took time.Duration) {
	if m == nil {
		return
	}
	mode := "read_write"
	if ports.ApplyTxOptions(opts).ReadOnly {
		mode = "read_only"
	}
	result := "ok"
	switch {
	case panicked:
		result = "panic"
	case err != nil:
		result = "error"
	}
	m.units.WithLabelValues(scope, mode, result).Inc()
	m.unitDuration.WithLabelValues(scope, mode).Observe(took.Seconds())
}

// observedStore is StoreModule's store with its units of work counted
// and timed (m, when not nil) and traced (tr, when not nil). It embeds
// the *startedStore so that every optional interface the store serves
// (job and outbox queues, session resolver, …) is still served.
type observedStore struct {
	*startedStore
	m  *Metrics
	tr *Tracing
}

// InShop runs the unit of work in a span of its own, and counts it.
func (s observedStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) (err error) {
	start, returned := time.Now(), false
	ctx, end := s.tr.startUnit(ctx, "InShop", shop, opts)
	defer func() {
		end(err, !returned)
		s.m.observeUnit("shop", opts, err, !returned, time.Since(start))
	}()
	err = s.startedStore.InShop(ctx, shop, fn, opts...)
	returned = true
	return err
}

// Global runs the unit of work in a span of its own, and counts it.
func (s observedStore) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) (err error) {
	start, returned := time.Now(), false
	ctx, end := s.tr.startUnit(ctx, "Global", ports.ShopID{}, opts)
	defer func() {
		end(err, !returned)
		s.m.observeUnit("global", opts, err, !returned, time.Since(start))
	}()
	err = s.startedStore.Global(ctx, fn, opts...)
	returned = true
	return err
}

// MetricsServer serves GET /metrics on the metrics' own listener
// (MetricsConfig.Listen); see Server for Start, Stop and Addr.
type MetricsServer struct{ *Server }

// NewMetricsServer returns the server of m's handler at MetricsPath on
// cfg.Metrics.ListenAddr(), with the API server's limits; any other path
// answers 404.
func NewMetricsServer(cfg Config, m *Metrics, log *zap.Logger) *MetricsServer {
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, m.Handler())
	return &MetricsServer{newServer(cfg, cfg.Metrics.ListenAddr(), "STOCKADE_METRICS_LISTEN", mux, log.Named("metrics"))}
}

// MetricsModule provides the *Metrics and the *MetricsServer when
// Config.Metrics.Enabled, and nil for both otherwise (nothing is counted
// and no listener is bound). Enabled, the server binds in OnStart and
// stops in OnStop, and the other modules report to the metrics: the HTTP
// API its requests, the store its units of work, the job runner and the
// outbox worker their attempts, and the password hasher its queue.
func MetricsModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Lifecycle fx.Lifecycle
		Logger    *zap.Logger
		Hasher    *passhash.Hasher `optional:"true"`
	}
	return fx.Module("stockade.metrics",
		fx.Provide(func(p params) (*Metrics, *MetricsServer, error) {
			if !p.Config.Metrics.Enabled {
				return nil, nil, nil
			}
			m, err := NewMetrics(MetricsParts{Hasher: p.Hasher})
			if err != nil {
				return nil, nil, err
			}
			s := NewMetricsServer(p.Config, m, p.Logger)
			p.Lifecycle.Append(fx.StartStopHook(s.Start, s.Stop))
			return m, s, nil
		}),
		fx.Invoke(func(*MetricsServer) {}),
	)
}
