package httpapi_test

// The canary part of the matrix world: every answer of the world's API
// passes an observer that hands problem bodies to the world's canary sink
// and registers every session and operator cookie the API sets; the
// world registers the secrets it configures (passwords, the Stripe API
// key and webhook secrets, the webhook test key, card numbers), and the
// tests register what they are handed (impersonation codes, unsubscribe
// tokens, the providers' signing secrets).

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/canary"
)

// The card numbers the matrix world's tests send in request fields and
// webhook payloads; neither may reach a log line or a problem body.
const (
	canaryCard      = "4242 4242 4242 4242"
	canaryOtherCard = "4000 0566 5566 5556"
)

// registerCanaries registers the secrets the world configures.
func (w *matrixWorld) registerCanaries() {
	s := w.canary
	s.Secret("the members' password", matrixPassword)
	s.Secret("the operators' password", operatorPassword)
	if w.bill != nil {
		s.Secret("the Stripe API key", w.bill.mock.Key)
	}
	s.Secret("the Stripe platform webhook secret", whPlatformSecret)
	s.Secret("the Stripe Connect webhook secret", whConnectSecret)
	s.Secret("an unconfigured Stripe webhook secret", whForeignSecret)
	s.Secret("the test webhook key", string(webhookKey))
	s.Card("a card number", canaryCard)
	s.Card("another card number", canaryOtherCard)
}

// observedAPI is the API as the matrix world's tests call it (see
// ServeHTTP).
type observedAPI struct {
	*httpapi.API
	sink *canary.Sink
}

func observe(api *httpapi.API, sink *canary.Sink) *observedAPI {
	return &observedAPI{API: api, sink: sink}
}

// ServeHTTP serves r and hands the answer's problem body, if any, to the
// sink; a session or operator cookie the answer sets becomes a canary.
func (o *observedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &problemCapture{ResponseWriter: w}
	o.API.ServeHTTP(cw, r)
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && (c.Name == auth.SessionCookieName || c.Name == auth.OperatorCookieName) && len(c.Value) >= canary.MinSecret {
			o.sink.Secret("a "+c.Name+" cookie", c.Value)
		}
	}
	if cw.problem {
		o.sink.Seen("problem body of "+r.Method+" "+r.URL.Path, cw.body.String())
	}
}

// problemCapture keeps the body of a problem answer.
type problemCapture struct {
	http.ResponseWriter
	problem, decided bool
	body             bytes.Buffer
}

func (c *problemCapture) Write(p []byte) (int, error) {
	if !c.decided {
		c.decided = true
		c.problem = strings.HasPrefix(c.Header().Get("Content-Type"), "application/problem+json")
	}
	if c.problem {
		c.body.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the recorder (deadlines,
// flushes).
func (c *problemCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }
