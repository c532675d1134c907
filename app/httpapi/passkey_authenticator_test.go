package httpapi_test

// A software WebAuthn authenticator for the passkey tests: real P-256
// keys, real CBOR (COSE keys, "none" attestation objects) and real ECDSA
// signatures over authenticatorData ‖ SHA-256(clientDataJSON), exactly
// what a browser hands the server. go-webauthn verifies its output with
// nothing mocked.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"
)

var b64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// softCredential is one credential the software authenticator holds.
type softCredential struct {
	id         []byte
	rpID       string
	userHandle []byte
	key        *ecdsa.PrivateKey
	counter    uint32
	backup     bool // BE and BS set (a synced passkey)
}

// softAuthenticator holds credentials like a platform authenticator.
type softAuthenticator struct {
	creds []*softCredential
}

// ceremonyOptions is what the begin routes answer, as far as the
// authenticator reads it.
type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

func parseOptions(t testing.TB, raw string) ceremonyOptions {
	t.Helper()
	var o ceremonyOptions
	require.NoError(t, json.Unmarshal([]byte(raw), &o), raw)
	require.NotEmpty(t, o.PublicKey.Challenge, raw)
	return o
}

func authData(rpID string, flags byte, counter uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:0:0], h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, counter)
	return append(out, attested...)
}

func clientData(t testing.TB, typ, challenge, origin string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	require.NoError(t, err)
	return b
}

// create answers creation options as navigator.credentials.create would
// on origin, and returns the PublicKeyCredential JSON and the new
// credential. The RP ID is the options' own.
func (a *softAuthenticator) create(t testing.TB, optionsJSON, origin string, backup bool) (json.RawMessage, *softCredential) {
	t.Helper()
	o := parseOptions(t, optionsJSON)
	require.Equal(t, "required", o.PublicKey.AuthenticatorSelection.ResidentKey, "a passkey is a discoverable credential")
	require.Equal(t, "required", o.PublicKey.AuthenticatorSelection.UserVerification)
	user, err := b64.DecodeString(o.PublicKey.User.ID)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	c := &softCredential{id: id, rpID: o.PublicKey.RP.ID, userHandle: user, key: key, backup: backup}
	a.creds = append(a.creds, c)

	pub, err := key.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
	require.NoError(t, err)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	require.NoError(t, err)
	attested := make([]byte, 16) // AAGUID: zero
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(id)))
	attested = append(attested, id...)
	attested = append(attested, cose...)
	flags := byte(flagUP | flagUV | flagAT)
	if backup {
		flags |= flagBE | flagBS
	}
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData(c.rpID, flags, 0, attested)})
	require.NoError(t, err)
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData(t, "webauthn.create", o.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
	})
	require.NoError(t, err)
	return out, c
}

// assertion is how one get() is made; the zero value is an honest one.
type assertion struct {
	rpID       string  // the RP ID hashed into authenticatorData; the credential's own when empty
	counter    *uint32 // the counter reported; the credential's next one when nil
	userHandle []byte  // the user handle returned; the credential's own when nil
}

// get answers request options with credential c on origin, as
// navigator.credentials.get would, and returns the PublicKeyCredential
// JSON.
func (a *softAuthenticator) get(t testing.TB, optionsJSON, origin string, c *softCredential, how assertion) json.RawMessage {
	t.Helper()
	o := parseOptions(t, optionsJSON)
	rpID := how.rpID
	if rpID == "" {
		rpID = c.rpID
	}
	// An honest authenticator reports its next counter; a forced one (a
	// clone's) is reported as given, and the real counter never goes back.
	counter := c.counter + 1
	if how.counter != nil {
		counter = *how.counter
	}
	c.counter = max(c.counter, counter)
	flags := byte(flagUP | flagUV)
	if c.backup {
		flags |= flagBE | flagBS
	}
	ad := authData(rpID, flags, counter, nil)
	cd := clientData(t, "webauthn.get", o.PublicKey.Challenge, origin)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	require.NoError(t, err)
	handle := how.userHandle
	if handle == nil {
		handle = c.userHandle
	}
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(handle),
		},
	})
	require.NoError(t, err)
	return out
}
