// Package webhooks signs and verifies outbound webhooks as Standard
// Webhooks v1 (https://www.standardwebhooks.com) describes them. Stockade
// signs every event it sends to a shop's endpoints this way; a receiver
// verifies them with Verifier. The package needs only the standard library,
// so a receiver can import it without the rest of Stockade.
//
// A message carries three headers:
//
//	webhook-id:        the message's ID, the same on every retry
//	webhook-timestamp: when it was sent, in Unix seconds
//	webhook-signature: "v1,<base64 signature>", several separated by spaces
//
// The signature is base64(HMAC-SHA256(key, id + "." + timestamp + "." +
// body)), where key is the endpoint's secret, written "whsec_<base64 key>".
// The timestamp is signed, so a receiver that refuses old timestamps
// refuses replays of a captured message; one that also remembers the IDs it
// has accepted (Verifier.Seen) refuses replays inside the tolerance too.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The header names and the secret prefix of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// SecretPrefix starts the text form of a secret: "whsec_<base64 key>".
	SecretPrefix = "whsec_"
	// DefaultTolerance is how far a message's timestamp may be from the
	// receiver's clock, either way, when Verifier.Tolerance is zero.
	DefaultTolerance = 5 * time.Minute
	// signatureVersion prefixes every v1 signature in HeaderSignature.
	signatureVersion = "v1"
)

// Errors of this package. Every error Sign, ParseSecret and Verify return
// matches (errors.Is) exactly one of them; the text adds detail but never
// the secret or a computed signature.
var (
	// ErrInvalidSecret: the secret is empty or not "whsec_" followed by
	// standard base64 (the prefix may be left out).
	ErrInvalidSecret = errors.New("webhooks: invalid secret")
	// ErrMissingHeader: webhook-id, webhook-timestamp or webhook-signature
	// is absent or empty.
	ErrMissingHeader = errors.New("webhooks: missing header")
	// ErrInvalidTimestamp: webhook-timestamp is not a decimal count of
	// Unix seconds.
	ErrInvalidTimestamp = errors.New("webhooks: invalid timestamp")
	// ErrTimestampOutOfTolerance: the timestamp is further than the
	// tolerance from now, in the past (an old message replayed) or the
	// future.
	ErrTimestampOutOfTolerance = errors.New("webhooks: timestamp outside tolerance")
	// ErrNoMatchingSignature: no v1 signature in webhook-signature matches
	// the id, timestamp and body under the secret (forged or altered).
	ErrNoMatchingSignature = errors.New("webhooks: no matching signature")
	// ErrReplayed: the message is authentic but Verifier.Seen reports its
	// ID as seen before.
	ErrReplayed = errors.New("webhooks: message id seen before")
)

// ParseSecret returns the HMAC key inside a secret "whsec_<base64 key>"
// (the prefix is optional, as Standard Webhooks libraries accept). It
// returns an error matching ErrInvalidSecret for an empty key or bad
// base64.
func ParseSecret(secret string) ([]byte, error) {
	b64 := strings.TrimPrefix(secret, SecretPrefix)
	if b64 == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64 after %q", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	return key, nil
}

// FormatSecret returns key's text form, "whsec_<base64 key>". Standard
// Webhooks recommends keys of 24 to 64 random bytes.
func FormatSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the v1 signature of a message, "v1,<base64 HMAC-SHA256>",
// the value of the webhook-signature header. ts is sent, and signed, in
// whole Unix seconds. It fails only for a malformed secret
// (ErrInvalidSecret).
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(mac(key, id, unixString(ts), body)), nil
}

// Headers returns the three headers of a message signed with secret: id,
// ts in Unix seconds, and its signature (see Sign).
func Headers(secret, id string, ts time.Time, body []byte) (http.Header, error) {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, unixString(ts))
	h.Set(HeaderSignature, sig)
	return h, nil
}

func unixString(ts time.Time) string { return strconv.FormatInt(ts.Unix(), 10) }

// mac is HMAC-SHA256(key, id "." ts "." body).
func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verifier checks the messages of one endpoint. The zero Tolerance and a
// nil Now mean DefaultTolerance and time.Now. A Verifier is safe for
// concurrent use when Now and Seen are.
type Verifier struct {
	// Secret is the endpoint's secret, "whsec_<base64 key>".
	Secret string
	// Tolerance is how far the timestamp may be from Now, either way
	// (default DefaultTolerance). Keep it short: it is the window in
	// which a captured message can be replayed when Seen is nil.
	Tolerance time.Duration
	// Now is the receiver's clock (default time.Now).
	Now func() time.Time
	// Seen, when set, closes the replay window: it is called only for a
	// message whose signature and timestamp are valid, must record id, and
	// reports whether id was recorded before (then Verify returns
	// ErrReplayed). Records must outlive twice the tolerance. Retries of a
	// message carry its ID, so a receiver that uses Seen treats
	// ErrReplayed as "already processed" and answers 2xx.
	Seen func(id string) bool
}

// Verify checks a message's headers (as received; keys are canonicalised
// by http.Header.Get) and its raw body, byte for byte as received. It
// returns nil for an authentic, fresh message, and otherwise an error
// matching, checked in this order: ErrInvalidSecret (the Verifier's
// secret), ErrMissingHeader, ErrInvalidTimestamp, ErrNoMatchingSignature
// (forged or altered), ErrTimestampOutOfTolerance (too old: a replay; or
// too far ahead), ErrReplayed. Signatures are compared in constant time.
func (v Verifier) Verify(h http.Header, body []byte) error {
	key, err := ParseSecret(v.Secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	for _, f := range []struct{ name, value string }{{HeaderID, id}, {HeaderTimestamp, tsText}, {HeaderSignature, sigs}} {
		if f.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, f.name)
		}
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || sec < 0 {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrInvalidTimestamp, tsText)
	}
	want := mac(key, id, tsText, body)
	matched := false
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != signatureVersion {
			continue // another scheme (v1a, …) or garbage: not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return ErrNoMatchingSignature
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ts := time.Unix(sec, 0)
	if d := now().Sub(ts); d > tol || d < -tol {
		return fmt.Errorf("%w: sent %s, %s from now", ErrTimestampOutOfTolerance, ts.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	if v.Seen != nil && v.Seen(id) {
		return fmt.Errorf("%w: %q", ErrReplayed, id)
	}
	return nil
}
