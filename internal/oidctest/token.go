package oidctest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// tokenError is an RFC 6749 section 5.2 error response.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// tokenResponse is a successful token response (OpenID Connect Core 1.0,
// section 3.1.3.3).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token,omitempty"`
}

// idClaims are the claims of an ID token. EmailVerified is a bool, or a
// string when the user asks for Google's quirk.
type idClaims struct {
	Issuer        string `json:"iss"`
	Subject       string `json:"sub"`
	Audience      string `json:"aud"`
	Expiry        int64  `json:"exp"`
	IssuedAt      int64  `json:"iat"`
	Nonce         string `json:"nonce,omitempty"`
	AccessHash    string `json:"at_hash,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified any    `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	// AMR lists the authentication methods used (RFC 8176).
	AMR []string `json:"amr,omitempty"`
}

// token is the token endpoint for the authorization_code grant (RFC 6749
// section 4.1.3 with RFC 7636 section 4.6). The client authenticates with
// client_secret_basic or client_secret_post. A code is removed on the first
// request that names it, whatever the outcome, so a replayed code — even
// one whose first redemption failed — gets invalid_grant.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "unreadable form"})
		return
	}
	if !i.clientAuthenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		writeJSON(w, http.StatusUnauthorized, tokenError{"invalid_client", "client authentication failed"})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, tokenError{"unsupported_grant_type", "only authorization_code is offered"})
		return
	}
	code := r.PostForm.Get("code")
	i.mu.Lock()
	g, found := i.codes[code]
	delete(i.codes, code)
	user := i.users[g.subject]
	faults := i.faults
	i.mu.Unlock()

	var refusal string
	switch {
	case !found:
		refusal = "unknown or already used code"
	case time.Now().After(g.expires):
		refusal = "code expired"
	case g.clientID != i.clientID:
		refusal = "code was issued to another client"
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		refusal = "redirect_uri differs from the authorization request's"
	case !verifierMatches(r.PostForm.Get("code_verifier"), g.challenge):
		refusal = "code_verifier does not match the code_challenge"
	}
	if refusal != "" {
		writeJSON(w, http.StatusBadRequest, tokenError{"invalid_grant", refusal})
		return
	}

	resp := tokenResponse{AccessToken: rand.Text(), TokenType: "Bearer", ExpiresIn: int64(tokenLifetime / time.Second)}
	if !faults.NoIDToken {
		idToken, err := i.signIDToken(g, user, resp.AccessToken, faults)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, tokenError{"server_error", err.Error()})
			return
		}
		resp.IDToken = idToken
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientAuthenticated checks client_secret_basic (whose ID and secret are
// form-encoded before base64, RFC 6749 section 2.3.1) or client_secret_post.
func (i *Issuer) clientAuthenticated(r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return false
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return subtle.ConstantTimeCompare([]byte(id), []byte(i.clientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(i.clientSecret)) == 1
}

// verifierMatches checks an RFC 7636 code verifier against its S256
// challenge.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, base64URLAlphabet+".~") != "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// signIDToken issues the ID token for g's user, bent by faults.
func (i *Issuer) signIDToken(g grant, u User, accessToken string, faults Faults) (string, error) {
	now := time.Now()
	atHash := sha256.Sum256([]byte(accessToken))
	c := idClaims{
		Issuer:     i.URL(),
		Subject:    u.Subject,
		Audience:   g.clientID,
		Expiry:     now.Add(tokenLifetime).Unix(),
		IssuedAt:   now.Unix(),
		Nonce:      g.nonce,
		AccessHash: base64.RawURLEncoding.EncodeToString(atHash[:len(atHash)/2]),
		Email:      u.Email,
		Name:       u.Name,
		AMR:        u.AMR,
	}
	if u.Email != "" {
		c.EmailVerified = u.EmailVerified
		if u.EmailVerifiedAsString {
			c.EmailVerified = fmt.Sprint(u.EmailVerified)
		}
	}
	key := i.key
	if faults.ForeignKey {
		key = i.foreignKey
	}
	if faults.WrongAudience {
		c.Audience = "another-client"
	}
	if faults.Expired {
		c.IssuedAt = now.Add(-2 * time.Hour).Unix()
		c.Expiry = now.Add(-time.Hour).Unix()
	}
	if faults.WrongIssuer {
		c.Issuer = "https://issuer.invalid"
	}
	return i.sign(key, c)
}

// sign serialises c as a compact JWS under key, labelled with the published
// key ID whichever key it is.
func (i *Issuer) sign(key *ecdsa.PrivateKey, c idClaims) (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: i.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("oidctest: signer: %w", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("oidctest: encode claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidctest: sign: %w", err)
	}
	return jws.CompactSerialize()
}
