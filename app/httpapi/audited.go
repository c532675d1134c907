package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/audit"
)

// serveCounted serves r with next and returns nil when the answer's status
// is below 400, or an error matching the ports sentinel of that status
// (see statusRules), so that an audit-first wrapper (audit.Before) records
// the outcome of a route by its answer.
func serveCounted(next http.Handler, w http.ResponseWriter, r *http.Request) error {
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	return errForStatus(sw.statusOr200())
}

// errForStatus is the inverse of StatusOf: nil for a status below 400,
// otherwise an error matching the first sentinel that StatusOf maps to
// status (a bare error for a status no sentinel maps to).
func errForStatus(status int) error {
	if status < 400 {
		return nil
	}
	for _, rule := range statusRules() {
		if rule.status == status {
			return fmt.Errorf("answered %d: %w", status, rule.err)
		}
	}
	return fmt.Errorf("answered %d", status)
}

// auditedAnswer finishes a request served through audit.Before: when the
// route never ran (the attempt could not be recorded, or a check before it
// refused) it answers the problem for err; when it ran, its answer stands,
// and an outcome that could not be recorded is logged.
func auditedAnswer(w http.ResponseWriter, r *http.Request, served bool, err error) {
	switch {
	case !served && err != nil:
		WriteProblem(w, r, err)
	case errors.Is(err, audit.ErrOutcomeNotRecorded):
		loggerFrom(r.Context()).Error("audited request: outcome not recorded", zap.Error(err))
	}
}
