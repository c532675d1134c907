package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/stockadehq/stockade/ports"
)

// SessionCookieName is the session cookie's name. The __Host- prefix makes
// browsers refuse it unless it is Secure, host-only and for path "/"
// (AUTH-7, TEN-7).
const SessionCookieName = "__Host-stockade_session"

// cookieVersion starts every session cookie value; a new format gets a new
// version.
const cookieVersion = "v1"

// sessionDomain separates session-cookie MACs from every other MAC made
// with the same keys.
const sessionDomain = "stockade/session-cookie/v1"

// errBadCookie is every reason a cookie value is refused before the
// database is asked. It matches ports.ErrUnauthenticated.
var errBadCookie = fmt.Errorf("session cookie is malformed or not signed by this server: %w", ports.ErrUnauthenticated)

// sessionCredential is what a session cookie carries.
type sessionCredential struct {
	ID    ports.SessionID
	Token []byte
}

// encodeSessionCookie returns the cookie value for a session of shop:
//
//	v1.<key id>.<session id>.<token>.<mac>
//
// where the ID, token and MAC are unpadded base64url and the MAC is
// HMAC-SHA256 under the key over the shop ID, the session ID and the token.
// Binding the shop into the MAC makes a cookie copied to another shop's
// host fail before any lookup.
func encodeSessionCookie(keys *Keyring, shop ports.ShopID, c sessionCredential) string {
	id := c.ID.UUID
	kid, sum := keys.sign(sessionDomain, shop.UUID[:], id[:], c.Token)
	enc := base64.RawURLEncoding
	return strings.Join([]string{cookieVersion, kid, enc.EncodeToString(id[:]), enc.EncodeToString(c.Token), enc.EncodeToString(sum)}, ".")
}

// decodeSessionCookie parses and verifies a cookie value presented on
// shop's host. It does no I/O: a forged, tampered, truncated or
// other-shop cookie fails here with an error matching
// ports.ErrUnauthenticated.
func decodeSessionCookie(keys *Keyring, shop ports.ShopID, value string) (sessionCredential, error) {
	if len(value) > 256 {
		return sessionCredential{}, errBadCookie
	}
	parts := strings.Split(value, ".")
	if len(parts) != 5 || parts[0] != cookieVersion {
		return sessionCredential{}, errBadCookie
	}
	enc := base64.RawURLEncoding.Strict()
	id, err1 := enc.DecodeString(parts[2])
	token, err2 := enc.DecodeString(parts[3])
	sum, err3 := enc.DecodeString(parts[4])
	if err := errors.Join(err1, err2, err3); err != nil || len(id) != 16 || len(token) != tokenSize || len(sum) != 32 {
		return sessionCredential{}, errBadCookie
	}
	if !keys.verify(parts[1], sum, sessionDomain, shop.UUID[:], id, token) {
		return sessionCredential{}, errBadCookie
	}
	u, err := uuid.FromBytes(id)
	if err != nil || u == uuid.Nil {
		return sessionCredential{}, errBadCookie
	}
	return sessionCredential{ID: ports.SessionID{UUID: u}, Token: token}, nil
}
