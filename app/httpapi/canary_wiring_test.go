package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// leakyStore fails every global unit of work with an error whose text
// holds a secret, as a careless adapter might.
type leakyStore struct {
	ports.Store
	err error
}

func (s leakyStore) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	return s.err
}

// TestMatrixCanaryIsNotVacuous proves the matrix world's canary wiring:
// a secret put on purpose into the API's error log (a 500), into a
// problem body (a 409 whose detail is the error's text) and into the
// billing service's log (a webhook's event ID) is reported by the
// world's sink, naming where. Without the wiring each of them would pass
// unseen. The billing part needs stripe-mock and skips alone without it.
func TestMatrixCanaryIsNotVacuous(t *testing.T) {
	w := newMatrixWorld(t, false)
	const secret = "wiring-Canary-0123456789"
	w.canary.Secret("the wiring canary", secret)
	signIn := credentials(w.byRole[ports.RoleOwner].Email, matrixPassword)

	a := w.apiOver(leakyStore{Store: w.raw, err: fmt.Errorf("store on fire near %s", secret)}, access.DefaultPolicy())
	res := a.send(http.MethodPost, "/auth/signin", "alpha", "", signIn, "application/json")
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	leaks := w.canary.TakeLeaks()
	require.NotEmpty(t, leaks, "the API's log reaches the sink")
	for _, l := range leaks {
		assert.True(t, strings.HasPrefix(l, "the wiring canary appeared in log"), "a 500 logs the error, its body does not carry it: %s", l)
	}

	a = w.apiOver(leakyStore{Store: w.raw, err: fmt.Errorf("%s: %w", secret, ports.ErrConflict)}, access.DefaultPolicy())
	res = a.send(http.MethodPost, "/auth/signin", "alpha", "", signIn, "application/json")
	require.Equal(t, http.StatusConflict, res.StatusCode)
	leaks = w.canary.TakeLeaks()
	assert.Contains(t, strings.Join(leaks, "\n"), "the wiring canary appeared in problem body of POST /auth/signin", "problem bodies reach the sink")

	a = w.api(access.DefaultPolicy())
	t.Run("billing log", func(t *testing.T) {
		w.needBilling(t, "the billing service's part of the canary wiring check")
		const eventID = "evt_wiringCanary0123456789"
		w.canary.Secret("the wiring event", eventID)
		ev := stripeEvent(eventID, "invoice.created", time.Now().Add(-time.Minute), "", map[string]any{"id": "in_1", "object": "invoice"})
		require.Equal(t, "ignored", deliver(t, a.api, ev, false))
		leaks := w.canary.TakeLeaks()
		require.NotEmpty(t, leaks, "the billing service's log reaches the sink")
		assert.Contains(t, strings.Join(leaks, "\n"), `the wiring event appeared in log: "wledged\",\"endpoint\":\"platform\",\"event\":\""…`, "the billing service's own line (slog's event attribute)")
	})
}
