package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stockadehq/stockade/ports"
)

// Exchange redeems code at the token endpoint with req.Verifier and
// redirectURL (which must equal the one given to AuthURL), verifies the ID
// token — signature against the issuer's published keys, issuer, audience
// (and azp when present or when there are several audiences), expiry,
// at_hash when present, a non-empty subject — and compares its nonce with
// req.Nonce in constant time.
//
// The returned identity's Issuer is the configured issuer identifier (for
// Google the token's iss may lack the scheme; the link key stays one
// spelling). EmailVerified is true only when the token asserts
// email_verified as true or "true" for a non-empty email. AMR is the amr
// claim when it is an array of strings (RFC 8176), else empty.
//
// Errors: ports.ErrInvalid when req has no nonce or a verifier that is not
// 43–128 RFC 7636 characters; ports.ErrUnauthenticated, with a short reason,
// for a missing or refused code (invalid_grant, also for a wrong verifier
// or a replayed code), a response without an ID token, a bad signature,
// issuer, audience or nonce, or an expired token; ports.ErrUnavailable when
// the token or key endpoint cannot be reached or answers 5xx. Error text
// never carries the code, a token, the verifier or the client secret.
func (p *Provider) Exchange(ctx context.Context, code string, req ports.AuthRequest, redirectURL string) (ports.ExternalIdentity, error) {
	fail := func(reason string, sentinel error) (ports.ExternalIdentity, error) {
		return ports.ExternalIdentity{}, fmt.Errorf("oidc: %s: exchange: %s: %w", p.name, reason, sentinel)
	}
	if err := checkRequest(req); err != nil {
		return ports.ExternalIdentity{}, fmt.Errorf("oidc: %s: exchange: %w", p.name, err)
	}
	if code == "" {
		return fail("no authorization code", ports.ErrUnauthenticated)
	}

	ctx = gooidc.ClientContext(ctx, p.client) // oauth2 reads its client from here
	tok, err := p.oauth(redirectURL).Exchange(ctx, code, oauth2.VerifierOption(req.Verifier))
	if err != nil {
		return fail(tokenError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("the token response has no id_token", ports.ErrUnauthenticated)
	}

	idToken, unavailable, err := p.verify(ctx, raw)
	var expired *gooidc.TokenExpiredError
	switch {
	case unavailable != nil:
		return fail(fmt.Sprintf("fetch the issuer's keys: %v", unavailable), ports.ErrUnavailable)
	case errors.As(err, &expired):
		return fail("id token expired", ports.ErrUnauthenticated)
	case err != nil:
		return fail(fmt.Sprintf("id token rejected: %v", err), ports.ErrUnauthenticated)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(req.Nonce)) != 1 {
		return fail("id token nonce does not match the request's", ports.ErrUnauthenticated)
	}
	if idToken.Subject == "" {
		return fail("id token has no subject", ports.ErrUnauthenticated)
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			return fail("id token at_hash does not match the access token", ports.ErrUnauthenticated)
		}
	}
	var c claims
	if err := idToken.Claims(&c); err != nil {
		return fail(fmt.Sprintf("id token claims unreadable: %v", err), ports.ErrUnauthenticated)
	}
	if (c.AuthorizedFor != "" || len(idToken.Audience) > 1) && c.AuthorizedFor != p.clientID {
		return fail("id token azp does not name this client", ports.ErrUnauthenticated)
	}
	return ports.ExternalIdentity{
		Issuer:        p.issuer,
		Subject:       idToken.Subject,
		Email:         c.Email,
		EmailVerified: bool(c.EmailVerified) && c.Email != "",
		Name:          c.Name,
		AMR:           []string(c.AMR),
	}, nil
}

// checkRequest refuses an AuthRequest that could not have protected the
// sign-in: without a nonce any replayed ID token would match, and a verifier
// outside RFC 7636 section 4.1 is a caller bug.
func checkRequest(req ports.AuthRequest) error {
	if req.Nonce == "" {
		return ports.Invalid("nonce", "required")
	}
	v := req.Verifier
	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	if len(v) < 43 || len(v) > 128 || strings.Trim(v, unreserved) != "" {
		return ports.Invalid("verifier", "must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	return nil
}

// tokenError maps a failed token request to a sentinel and a reason that
// quotes only the RFC 6749 error code, never the response body.
func tokenError(err error) (reason string, sentinel error) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := ""
		if re.Response != nil {
			status = re.Response.Status
		}
		switch {
		case re.Response != nil && re.Response.StatusCode >= 500,
			re.ErrorCode == "server_error", re.ErrorCode == "temporarily_unavailable":
			return fmt.Sprintf("token endpoint failed (%q, %s)", re.ErrorCode, status), ports.ErrUnavailable
		case re.ErrorCode != "":
			return fmt.Sprintf("the issuer refused the code (%q)", re.ErrorCode), ports.ErrUnauthenticated
		}
		return fmt.Sprintf("the issuer refused the code (%s)", status), ports.ErrUnauthenticated
	}
	if unreachable(err) {
		return fmt.Sprintf("token endpoint unreachable: %v", err), ports.ErrUnavailable
	}
	return "the token response is unusable", ports.ErrUnauthenticated
}
