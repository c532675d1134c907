package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// status is the body of the health answers.
type status struct {
	Status string `json:"status"`
}

// healthz answers liveness: the process is serving.
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, "application/json", http.StatusOK, status{Status: "ok"})
}

// readyz answers readiness: ready is reachable within readyTimeout.
func readyz(ready Pinger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ready.Ping(ctx); err != nil {
				WriteProblem(w, r, notReady(err))
				return
			}
		}
		writeJSON(w, "application/json", http.StatusOK, status{Status: "ready"})
	})
}

// notReady makes any ping failure a 503: a dependency that is not ready is
// unavailable, whatever error it reported. The error's text is kept for the
// log; only ports.ErrUnavailable is matchable, so no other table row can
// claim it.
func notReady(err error) error { return &notReadyError{err: err} }

type notReadyError struct{ err error }

func (e *notReadyError) Error() string { return "not ready: " + e.err.Error() }

// Is reports whether target is ports.ErrUnavailable.
func (e *notReadyError) Is(target error) bool { return target == ports.ErrUnavailable }
