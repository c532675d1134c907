package httpapi_test

import (
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/stretchr/testify/require"
)

// benchUser is a go-webauthn user with one credential.
type benchUser struct{ creds []webauthn.Credential }

func (u benchUser) WebAuthnID() []byte                         { return []byte("bench-user-handle") }
func (u benchUser) WebAuthnName() string                       { return "bench" }
func (u benchUser) WebAuthnDisplayName() string                { return "bench" }
func (u benchUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// BenchmarkPasskeyAssertionVerify measures what the server spends on one
// WebAuthn assertion: parsing the PublicKeyCredential JSON (base64url,
// CBOR authenticator data) and go-webauthn's verification (client data,
// RP ID hash, flags, ECDSA P-256 signature). The store's part (taking the
// ceremony, the counter's compare-and-set) is not included.
func BenchmarkPasskeyAssertionVerify(b *testing.B) {
	wa, err := webauthn.New(&webauthn.Config{RPID: "alpha.example.test", RPDisplayName: "Alpha", RPOrigins: []string{alphaOrigin}})
	require.NoError(b, err)
	sa := &softAuthenticator{}
	u := benchUser{}
	creation, regSession, err := wa.BeginRegistration(u, webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired}))
	require.NoError(b, err)
	created, c := sa.create(b, jsonOf(b, creation), alphaOrigin, true)
	parsedCreation, err := protocol.ParseCredentialCreationResponseBytes(created)
	require.NoError(b, err)
	cred, err := wa.CreateCredential(u, *regSession, parsedCreation)
	require.NoError(b, err)
	u.creds = []webauthn.Credential{*cred}

	assertionOpts, loginSession, err := wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationRequired))
	require.NoError(b, err)
	resp := sa.get(b, jsonOf(b, assertionOpts), alphaOrigin, c, assertion{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wa.ValidateLogin(u, *loginSession, parsed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}
