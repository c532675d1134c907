package twilio

import (
	"context"
	"net/http"
)

// callTransport ties the SDK's requests (which it makes without a
// context) to one call's context, and records the HTTP status of the
// answer, which the SDK does not always surface (a proxy's HTML 502
// becomes a decoding error).
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	status int // of the last response; 0 if none came
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if resp != nil {
		t.status = resp.StatusCode
	}
	return resp, err
}

// callClient returns an http.Client for one call over base.
func callClient(ctx context.Context, base *http.Client) (*http.Client, *callTransport) {
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t := &callTransport{ctx: ctx, base: rt}
	return &http.Client{
		Transport: t,
		Timeout:   base.Timeout,
		// The Messages API never redirects; following one would resend
		// the credentials elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, t
}
