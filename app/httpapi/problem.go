package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/ports"
)

// Problem is an RFC 9457 problem details object, the body of every error
// answer (Content-Type application/problem+json).
type Problem struct {
	Type   string `json:"type"`   // always "about:blank": the status says it all
	Title  string `json:"title"`  // the status text, e.g. "Not Found"
	Status int    `json:"status"` // the HTTP status code
	// Detail explains this occurrence. For 4xx answers it is the error's
	// message without the store's words (see PublicDetail); 5xx answers
	// get a fixed text, never the internal error.
	Detail string `json:"detail,omitempty"`
	// RequestID is the request's ID (extension member), to find the logs.
	RequestID string `json:"request_id,omitempty"`
	// Errors lists the refused input fields of a 400 answer (extension
	// member), one per *ports.InvalidError in the error's tree.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one refused input field.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// statusRule maps errors matching err to status.
type statusRule struct {
	err    error
	status int
}

// statusRules is the one table from the ports sentinels to HTTP status
// codes. The first rule whose sentinel matches (errors.Is) wins; an error
// matching none is a 500.
func statusRules() []statusRule {
	return []statusRule{
		{ports.ErrInvalid, http.StatusBadRequest},
		{ports.ErrUnauthenticated, http.StatusUnauthorized},
		{ports.ErrForbidden, http.StatusForbidden},
		{ports.ErrNotFound, http.StatusNotFound},
		{ports.ErrConflict, http.StatusConflict},
		{ports.ErrOptedOut, http.StatusConflict},
		// The shop's key was revoked at its KMS (BYOK): the file exists
		// and is intact, but cannot be decrypted until the key's owner
		// restores access; the detail says so.
		{ports.ErrKeyRevoked, http.StatusConflict},
		{ports.ErrRateLimited, http.StatusTooManyRequests},
		{ports.ErrUnavailable, http.StatusServiceUnavailable},
		{ports.ErrSchemaBehind, http.StatusServiceUnavailable},
		{ports.ErrSchemaTooNew, http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{errMethodNotAllowed, http.StatusMethodNotAllowed},
		{errTooSlow, http.StatusRequestTimeout},
	}
}

// errMethodNotAllowed answers a known path with a method it does not serve.
var errMethodNotAllowed = errors.New("method not allowed")

// StatusOf returns the HTTP status WriteProblem answers err with.
func StatusOf(err error) int {
	for _, r := range statusRules() {
		if errors.Is(err, r.err) {
			return r.status
		}
	}
	return http.StatusInternalServerError
}

// serverDetail is the fixed detail of 5xx answers: the internal error stays
// in the log, under the request ID.
func serverDetail(status int) string {
	if status == http.StatusServiceUnavailable {
		return "The service is temporarily unavailable; retry later."
	}
	return "An internal error occurred; the request ID identifies it in the server logs."
}

// WriteProblem answers r with the problem details for err: the status from
// the sentinel table (see StatusOf), Cache-Control: no-store, for a 400
// the refused fields, and for a 429 Retry-After (see retryAfter). 5xx answers carry a generic detail; their error is
// logged instead (503 at warn, others at error) through the request's
// logger (see AccessLog). err must not be nil.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		RequestID: RequestIDFrom(r.Context()),
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter(err))
	}
	if status >= 500 {
		p.Detail = serverDetail(status)
		lvl := zap.ErrorLevel
		if status == http.StatusServiceUnavailable {
			lvl = zap.WarnLevel
		}
		loggerFrom(r.Context()).Log(lvl, "request failed", zap.Int("status", status), zap.Error(err))
	} else {
		p.Detail = PublicDetail(err)
		p.Errors = fieldErrors(err)
	}
	writeJSON(w, "application/problem+json", status, p)
}

// retryAfter is the Retry-After of a 429 for err: the whole seconds until
// the limit's window ends when an error in err's tree knows it (a
// RetryAfter() time.Duration method), else 1.
func retryAfter(err error) string {
	var ra interface{ RetryAfter() time.Duration }
	secs := int64(1)
	if errors.As(err, &ra) {
		secs = max(1, int64(math.Ceil(ra.RetryAfter().Seconds())))
	}
	return strconv.FormatInt(secs, 10)
}

// fieldErrors collects every *ports.InvalidError in err's tree, in order.
func fieldErrors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if inv, ok := e.(*ports.InvalidError); ok {
			out = append(out, FieldError{Field: inv.Field, Reason: inv.Reason})
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// writeJSON writes v as a JSON answer that must not be cached.
func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // the answers are plain structs: cannot happen
		http.Error(w, `{"status":"error"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
