package httpapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an accepted incoming request ID.
const maxRequestIDLen = 64

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestIDFrom returns the request ID that RequestID stored in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// loggerFrom returns the request's logger that AccessLog stored in ctx, or
// a no-op logger.
func loggerFrom(ctx context.Context) *zap.Logger {
	if l, ok := ctx.Value(loggerKey).(*zap.Logger); ok {
		return l
	}
	return zap.NewNop()
}

// RequestID gives every request an ID: the incoming X-Request-ID when it is
// 1–64 characters of [A-Za-z0-9_-] (so a caller cannot inject log syntax or
// bloat logs), else a fresh random one. The ID is stored in the request's
// context (RequestIDFrom) and echoed in the X-Request-ID response header.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = rand.Text() // 26 base32 characters, 130 random bits
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// SecurityHeaders sets X-Content-Type-Options: nosniff, Referrer-Policy:
// no-referrer and X-Frame-Options: DENY on every response, before the
// handler runs, so error and panic answers carry them too.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// AccessLog logs one info record "request" per request after it is
// served: method (a standard method, else "OTHER"), route, status, bytes,
// duration and request_id. The route is the pattern the http.ServeMux
// inside it matched (Request.Pattern, without its method: "/u/{token}"),
// or "unmatched"; the raw path is never logged, because paths carry
// credentials (unsubscribe tokens, capability links). Neither are the
// query string, headers, cookies or bodies. It also stores a logger
// carrying the request ID in the request's context for WriteProblem. Put
// it inside RequestID, with nothing that copies the request (such as
// Request.WithContext) between it and the mux.
//
// When the request's context holds a recording OpenTelemetry span (an
// otelhttp handler outside, see app.Tracing), AccessLog names it
// "METHOD route" and sets its http.route attribute to the matched
// pattern; an unmatched request's span keeps its name.
func AccessLog(log *zap.Logger) func(http.Handler) http.Handler {
	return accessLog(log, nil)
}

// ObservedAccessLog is AccessLog that also tells obs (when not nil) of
// every request it logs, as the API's handler tells Deps.Requests: one
// call per request, with the matched pattern as route. A handler served
// in front of the API (such as app/web's pages) uses it to report its own
// requests to the same metrics; a request it hands on to the API must not
// pass through it, or it would be counted twice.
func ObservedAccessLog(log *zap.Logger, obs RequestObserver) func(http.Handler) http.Handler {
	return accessLog(log, obs)
}

// RequestObserver is told every request AccessLog logs, with the same
// values: method as logged (a standard method, else "OTHER"), route (the
// matched pattern without its method, or "unmatched"; never the raw
// path), the answer's status and the time it took. It is called
// concurrently from the requests' goroutines after each answer; it must be
// quick and must not block. For metrics.
type RequestObserver interface {
	ObserveRequest(method, route string, status int, took time.Duration)
}

// accessLog is AccessLog that also tells obs, when set, of every request.
func accessLog(log *zap.Logger, obs RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := RequestIDFrom(r.Context())
			reqLog := log.With(zap.String("request_id", id))
			sw := &statusWriter{ResponseWriter: w}
			inner := r.WithContext(context.WithValue(r.Context(), loggerKey, reqLog))
			defer func() {
				method, route, status, took := logMethod(r.Method), routeOf(inner), sw.statusOr200(), time.Since(start) // the mux sets inner.Pattern
				reqLog.Info("request",
					zap.String("method", method),
					zap.String("route", route),
					zap.Int("status", status),
					zap.Int64("bytes", sw.bytes),
					zap.Duration("duration", took),
				)
				if obs != nil {
					obs.ObserveRequest(method, route, status, took)
				}
				if span := trace.SpanFromContext(inner.Context()); span.IsRecording() && inner.Pattern != "" {
					span.SetName(method + " " + route)
					span.SetAttributes(attribute.String("http.route", route))
				}
			}()
			next.ServeHTTP(sw, inner)
		})
	}
}

// routeOf returns the path of the pattern that served r ("/u/{token}"),
// or "unmatched"; never r's path, which may hold a credential.
func routeOf(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = strings.TrimLeft(p[i+1:], " \t")
	}
	return p
}

// logMethod returns method if it is one of RFC 9110's (or PATCH), and
// "OTHER" for anything a client made up.
func logMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// Recover turns a panic in next into a logged error and, if nothing was
// written yet, a 500 problem answer. If the answer had already started, the
// connection is aborted (http.ErrAbortHandler) so the client cannot mistake
// a truncated answer for a complete one. Put it inside AccessLog so the
// access log records the 500.
func Recover(log *zap.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler { // net/http compares it the same way
					panic(v)
				}
				log.Error("panic serving request",
					zap.String("request_id", RequestIDFrom(r.Context())),
					zap.String("method", logMethod(r.Method)),
					zap.String("route", routeOf(r)),
					zap.String("panic", fmt.Sprint(v)),
					zap.StackSkip("stack", 1),
				)
				if sw.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				WriteProblem(sw, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter records the status and size of an answer. It unwraps for
// http.ResponseController and forwards Flush.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 { // 1xx answers are informational
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusOr200() int {
	if !w.wroteHeader {
		return http.StatusOK // net/http answers 200 for a handler that writes nothing
	}
	return w.status
}
