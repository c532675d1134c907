package webhooks_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/stockadehq/stockade/webhooks"
)

// A receiver verifies each delivery before it trusts the body, and
// answers 2xx once it has processed it; anything else makes the sender
// retry with the same webhook-id.
func ExampleVerifier() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // shown once when the endpoint was created

	var mu sync.Mutex
	seen := map[string]bool{} // keep IDs for at least twice the tolerance
	v := webhooks.Verifier{Secret: secret, Seen: func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		was := seen[id]
		seen[id] = true
		return was
	}}
	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		switch err := v.Verify(r.Header, body); {
		case errors.Is(err, webhooks.ErrReplayed):
			w.WriteHeader(http.StatusNoContent) // processed already: a retry
		case err != nil:
			http.Error(w, "bad signature", http.StatusUnauthorized)
		default:
			fmt.Println("accepted", string(body))
			w.WriteHeader(http.StatusNoContent)
		}
	})

	body := `{"type":"member.added","timestamp":"2026-12-06T05:00:00Z","data":{"user":"u-1"}}`
	send := func(body string) int {
		h, _ := webhooks.Headers(secret, "msg_1", time.Now(), []byte(body))
		req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		for k, vs := range h {
			req.Header[k] = vs
		}
		rec := httptest.NewRecorder()
		receive.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println(send(body))
	fmt.Println(send(body)) // the same message again
	forged := strings.Replace(body, "u-1", "u-2", 1)
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(forged))
	h, _ := webhooks.Headers(secret, "msg_2", time.Now(), []byte(body))
	for k, vs := range h {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	receive.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// accepted {"type":"member.added","timestamp":"2026-12-06T05:00:00Z","data":{"user":"u-1"}}
	// 204
	// 204
	// 401
}
