package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/stockadehq/stockade/internal/scrub"
	"github.com/stockadehq/stockade/ports"
)

// mapErr turns an SDK error into a ports sentinel wrapped with what was
// being done. Only the status, the error's type and code, the parameter it
// names and the request ID are kept: never the SDK error's own text, which
// serialises every object it carries. What is kept passes
// scrub.ProviderText with secrets (the API key), so an answer echoing the
// key in any of them, or a transport error quoting a body, leaks nothing.
func mapErr(op string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stripe: %s: %w", op, err)
	}
	var se *stripego.Error
	if !errors.As(err, &se) {
		// Transport failures: the text names the host, never the key.
		return fmt.Errorf("stripe: %s: %s: %w", op, scrub.ProviderText(err.Error(), secrets...), ports.ErrUnavailable)
	}
	what := fmt.Sprintf("stripe: %s: HTTP %d %s", op, se.HTTPStatusCode, se.Type)
	if se.Code != "" {
		what += " " + string(se.Code)
	}
	if se.Param != "" {
		what += " (param " + se.Param + ")"
	}
	if se.RequestID != "" {
		what += " [" + se.RequestID + "]"
	}
	what = scrub.ProviderText(what, secrets...)
	switch s := se.HTTPStatusCode; {
	case s == http.StatusNotFound || se.Code == stripego.ErrorCodeResourceMissing:
		return fmt.Errorf("%s: %w", what, ports.ErrNotFound)
	case s == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w", what, ports.ErrRateLimited)
	case s == http.StatusConflict || se.Type == stripego.ErrorTypeIdempotency:
		return fmt.Errorf("%s: %w", what, ports.ErrConflict)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		// The platform's key is refused: a configuration fault.
		return fmt.Errorf("%s: the API key was refused: %w", what, ports.ErrUnavailable)
	case s >= 500 || s == 0:
		return fmt.Errorf("%s: %w", what, ports.ErrUnavailable)
	}
	return fmt.Errorf("%s: %w", what, ports.Invalid(op, "refused by Stripe"))
}
