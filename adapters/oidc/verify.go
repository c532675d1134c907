package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// supportedAlg reports whether go-oidc verifies signatures made with alg.
// An issuer's advertised list is cut down to these, as go-oidc's own
// Provider.Verifier does; "none" and HMAC never pass.
func supportedAlg(alg string) bool {
	switch alg {
	case gooidc.RS256, gooidc.RS384, gooidc.RS512,
		gooidc.ES256, gooidc.ES384, gooidc.ES512,
		gooidc.PS256, gooidc.PS384, gooidc.PS512,
		gooidc.EdDSA:
		return true
	}
	return false
}

// verifier returns the ID token verifier for this issuer: signature against
// the issuer's JWKS (fetched through client, cached, refetched on an
// unknown key), issuer, audience and expiry. It is built by hand rather
// than with go-oidc's Provider.Verifier so that the key set can report an
// unreachable JWKS (see keySet).
func (d discovered) verifier(client *http.Client, issuer, clientID string) *gooidc.IDTokenVerifier {
	var algs []string
	for _, a := range d.Algorithms {
		if supportedAlg(a) {
			algs = append(algs, a)
		}
	}
	// The key set keeps this context for its background fetches; only the
	// client in it matters.
	remote := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), client), d.JWKSURL)
	return gooidc.NewVerifier(issuer, keySet{remote: remote}, &gooidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: algs, // empty: go-oidc allows RS256 only
	})
}

// fetchFailure records, for one Verify call, that the JWKS could not be
// fetched. go-oidc flattens the key set's error into a string, so the
// cause travels beside it in the context instead.
type fetchFailure struct{ err error }

type fetchFailureKey struct{}

// keySet is go-oidc's remote key set, noting network failures in the
// caller's fetchFailure.
type keySet struct{ remote *gooidc.RemoteKeySet }

// VerifySignature implements gooidc.KeySet.
func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if err != nil && unreachable(err) {
		if f, ok := ctx.Value(fetchFailureKey{}).(*fetchFailure); ok {
			f.err = err
		}
	}
	return payload, err
}

// verify checks rawIDToken. unavailable is non-nil when the issuer's keys
// could not be fetched, in which case err says nothing about the token.
func (p *Provider) verify(ctx context.Context, rawIDToken string) (tok *gooidc.IDToken, unavailable, err error) {
	f := &fetchFailure{}
	tok, err = p.verifier.Verify(context.WithValue(ctx, fetchFailureKey{}, f), rawIDToken)
	return tok, f.err, err
}

// unreachable reports whether err means the issuer could not be reached
// (as opposed to having answered with a refusal or nonsense).
func unreachable(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// claims are the ID token claims Stockade reads beyond go-oidc's IDToken.
type claims struct {
	Email         string       `json:"email"`
	EmailVerified looseBool    `json:"email_verified"`
	Name          string       `json:"name"`
	AuthorizedFor string       `json:"azp"`
	AMR           looseStrings `json:"amr"`
}

// looseBool reads a JSON boolean or the strings "true" and "false" (Google
// has sent email_verified as a string). Anything else reads as false, so an
// odd value can never vouch for an e-mail address.
type looseBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *looseBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = v == true || v == "true"
	return nil
}

// looseStrings reads a JSON array of strings; anything else (a lone
// string, numbers, an object) reads as empty, so an odd amr claim neither
// fails the sign-in nor vouches for a factor.
type looseStrings []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *looseStrings) UnmarshalJSON(data []byte) error {
	var v []string
	if json.Unmarshal(data, &v) != nil {
		v = nil
	}
	*l = v
	return nil
}
