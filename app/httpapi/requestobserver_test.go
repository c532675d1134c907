package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/app/httpapi"
)

// observed is a RequestObserver that keeps what it is told.
type observed struct {
	mu   sync.Mutex
	seen []string // "method route status"
}

func (o *observed) ObserveRequest(method, route string, status int, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if took < 0 {
		panic("negative duration")
	}
	o.seen = append(o.seen, method+" "+route+" "+http.StatusText(status))
}

// Deps.Requests is told every request with the access log's values: the
// route pattern, never the path, and never a client-chosen method.
func TestRequestObserverSeesRoutePatterns(t *testing.T) {
	obs := &observed{}
	h := httpapi.New(httpapi.Deps{Requests: obs})
	for _, r := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/nowhere/secret-Zq81xv"},
		{"BREW", "/healthz"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}
	assert.Equal(t, []string{
		"GET /healthz OK",
		"GET unmatched Not Found",
		"OTHER unmatched Method Not Allowed",
	}, obs.seen)
}
