package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/ports"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		give error
		want int
	}{
		{ports.Invalid("email", "malformed"), http.StatusBadRequest},
		{fmt.Errorf("sign in: %w", ports.ErrInvalid), http.StatusBadRequest},
		{fmt.Errorf("sign in: %w", ports.ErrUnauthenticated), http.StatusUnauthorized},
		{fmt.Errorf("x: %w", ports.ErrForbidden), http.StatusForbidden},
		{fmt.Errorf("x: %w", ports.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("x: %w", ports.ErrConflict), http.StatusConflict},
		{fmt.Errorf("x: %w", ports.ErrKeyRevoked), http.StatusConflict},
		{fmt.Errorf("x: %w", ports.ErrRateLimited), http.StatusTooManyRequests},
		{fmt.Errorf("x: %w", ports.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", ports.ErrSchemaBehind), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", ports.ErrSchemaTooNew), http.StatusServiceUnavailable},
		{errors.New("boom"), http.StatusInternalServerError},
		{fmt.Errorf("x: %w", ports.ErrNestedUnitOfWork), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.give.Error(), func(t *testing.T) {
			if got := httpapi.StatusOf(tt.give); got != tt.want {
				t.Errorf("StatusOf(%v) = %d, want %d", tt.give, got, tt.want)
			}
		})
	}
}

// problemFor runs WriteProblem for err and decodes the answer.
func problemFor(t *testing.T, err error) (*httptest.ResponseRecorder, httpapi.Problem) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	httpapi.WriteProblem(rec, req, err)
	return rec, decodeProblem(t, rec.Result().Header.Get("Content-Type"), rec.Body.Bytes())
}

func decodeProblem(t *testing.T, contentType string, body []byte) httpapi.Problem {
	t.Helper()
	if contentType != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", contentType)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode problem %q: %v", body, err)
	}
	return p
}

func TestWriteProblemClientError(t *testing.T) {
	rec, p := problemFor(t, fmt.Errorf("open quote: %w", ports.ErrNotFound))
	if rec.Code != http.StatusNotFound || p.Status != http.StatusNotFound {
		t.Errorf("status = %d / body %d, want 404", rec.Code, p.Status)
	}
	if p.Type != "about:blank" || p.Title != "Not Found" {
		t.Errorf("type, title = %q, %q", p.Type, p.Title)
	}
	if p.Detail != "open quote: not found" {
		t.Errorf("detail = %q, want the error's message", p.Detail)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

func TestWriteProblemInvalidFields(t *testing.T) {
	err := fmt.Errorf("create user: %w", errors.Join(
		ports.Invalid("email", "not an address"),
		fmt.Errorf("wrapped: %w", ports.Invalid("password", "too short")),
	))
	rec, p := problemFor(t, err)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	want := []httpapi.FieldError{{Field: "email", Reason: "not an address"}, {Field: "password", Reason: "too short"}}
	if fmt.Sprint(p.Errors) != fmt.Sprint(want) {
		t.Errorf("errors = %v, want %v", p.Errors, want)
	}
}

func TestWriteProblemServerErrorHidesInternals(t *testing.T) {
	tests := []struct {
		give error
		want int
	}{
		{errors.New("pq: password authentication failed for user app at 10.0.0.7"), http.StatusInternalServerError},
		{fmt.Errorf("dial 10.0.0.7:5432 pq: password authentication failed: %w", ports.ErrUnavailable), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		rec, p := problemFor(t, tt.give)
		if rec.Code != tt.want {
			t.Errorf("status = %d, want %d", rec.Code, tt.want)
		}
		if body := rec.Body.String(); strings.Contains(body, "10.0.0.7") || strings.Contains(body, "password") {
			t.Errorf("5xx body leaks the internal error: %s", body)
		}
		if p.Detail == "" {
			t.Error("5xx detail is empty, want a generic text")
		}
	}
}

func TestWriteProblemCarriesRequestID(t *testing.T) {
	var got httpapi.Problem
	h := httpapi.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteProblem(w, r, ports.ErrForbidden)
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	h.ServeHTTP(rec, req)
	got = decodeProblem(t, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	if got.RequestID != "abc-123" {
		t.Errorf("request_id = %q, want abc-123", got.RequestID)
	}
}
