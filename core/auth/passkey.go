package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/stockadehq/stockade/ports"
)

// MethodPasskey is the session method of a passwordless sign-in with a
// discoverable passkey (AUTH-12).
const MethodPasskey = "passkey"

// Passkey audit actions, appended to the log of the shop the passkey
// belongs to.
const (
	ActionPasskeyRegistered = "auth.passkey.registered"
	ActionPasskeyRenamed    = "auth.passkey.renamed"
	ActionPasskeyRemoved    = "auth.passkey.removed"
	ActionPasskeySignIn     = "auth.passkey.signin"
)

// PasskeyCeremonyTTL bounds how long a begun WebAuthn ceremony can be
// finished.
const PasskeyCeremonyTTL = 5 * time.Minute

var (
	// errPasskeyRefused answers every failed passwordless sign-in: an
	// unknown, expired or used challenge, an unknown credential, a bad
	// signature, another relying party, a counter that did not advance.
	errPasskeyRefused = fmt.Errorf("the passkey was not accepted: %w", ports.ErrUnauthenticated)
	// errPasskeyInvalid answers a refused registration or step-up as a
	// refused field (400): the session itself is still good.
	errPasskeyInvalid = ports.Invalid("credential", "was not accepted: wrong, expired or used challenge, unknown passkey or bad signature")
	errNoPasskey      = fmt.Errorf("no passkey is registered on this shop: %w", ports.ErrConflict)
)

// PasskeyRP is the relying party of a passkey ceremony: the shop the
// request is for. ID is the shop's host ("acme.example.com"), Origin the
// shop's origin ("https://acme.example.com"), Name what authenticators
// show. The caller derives it from the shop it resolved the request to,
// never from what the client says; a passkey made for one shop's RP ID
// is stored in that shop only and verified against that RP ID, so it is
// neither offered nor accepted on another shop.
type PasskeyRP struct {
	ID     string
	Origin string
	Name   string
}

func (rp PasskeyRP) validate() error {
	u, err := url.Parse(rp.Origin)
	if rp.ID == "" || len(rp.ID) > ports.MaxRPIDLen || err != nil || u.Hostname() != rp.ID {
		return fmt.Errorf("passkey relying party %q at %q: the origin's host must be the RP ID: %w", rp.ID, rp.Origin, ports.ErrInvalid)
	}
	return nil
}

func (rp PasskeyRP) webAuthn() (*webauthn.WebAuthn, error) {
	if err := rp.validate(); err != nil {
		return nil, err
	}
	name := rp.Name
	if name == "" {
		name = rp.ID
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: name, RPOrigins: []string{rp.Origin}})
	if err != nil {
		return nil, fmt.Errorf("passkey relying party: %w", err)
	}
	return wa, nil
}

// passkeyUser is a member as go-webauthn sees them: the user handle is
// the user ID's 16 bytes, the credentials the user's passkeys in this
// shop only.
type passkeyUser struct {
	id    ports.UserID
	name  string
	keys  []ports.Passkey
	creds []webauthn.Credential
}

func newPasskeyUser(id ports.UserID, name string, keys []ports.Passkey) *passkeyUser {
	u := &passkeyUser{id: id, name: name, keys: keys}
	for _, k := range keys {
		u.creds = append(u.creds, credentialOf(k))
	}
	return u
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.id.UUID[:] }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (u *passkeyUser) key(credentialID []byte) (ports.Passkey, bool) {
	for _, k := range u.keys {
		if string(k.CredentialID) == string(credentialID) {
			return k, true
		}
	}
	return ports.Passkey{}, false
}

func credentialOf(k ports.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(k.Transports))
	for i, t := range k.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: k.CredentialID, PublicKey: k.PublicKey, AttestationFormat: k.AttestationFormat, Transport: transports,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: k.UserVerified, BackupEligible: k.BackupEligible, BackupState: k.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
	}
}

// challengeHash is the stored form of a ceremony's challenge (the
// base64url text the client signs).
func challengeHash(challenge string) []byte {
	sum := sha256.Sum256([]byte(challenge))
	return sum[:]
}

// putCeremony stores sd, without its challenge, under the challenge's
// hash.
func (s *Service) putCeremony(ctx context.Context, tx ports.ShopTx, sd *webauthn.SessionData, c ports.WebAuthnChallenge) error {
	hash := challengeHash(sd.Challenge)
	rest := *sd
	rest.Challenge = ""
	data, err := json.Marshal(rest)
	if err != nil {
		return fmt.Errorf("encode webauthn ceremony: %w", err)
	}
	c.Hash, c.Data, c.ExpiresAt = hash, data, s.clock.Now().Add(PasskeyCeremonyTTL)
	return tx.Passkeys().PutChallenge(ctx, c)
}

// takeCeremony removes and returns the ceremony of purpose whose
// challenge the client signed (once: a replay finds nothing), checked
// against the relying party. errPasskeyInvalid when there is none.
func (s *Service) takeCeremony(ctx context.Context, tx ports.ShopTx, challenge, purpose string, rp PasskeyRP) (webauthn.SessionData, ports.WebAuthnChallenge, error) {
	c, err := tx.Passkeys().TakeChallenge(ctx, challengeHash(challenge), purpose, s.clock.Now())
	if errors.Is(err, ports.ErrNotFound) {
		return webauthn.SessionData{}, ports.WebAuthnChallenge{}, errPasskeyInvalid
	} else if err != nil {
		return webauthn.SessionData{}, ports.WebAuthnChallenge{}, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return webauthn.SessionData{}, ports.WebAuthnChallenge{}, fmt.Errorf("decode webauthn ceremony: %w", err)
	}
	if c.RPID != rp.ID || sd.RelyingPartyID != rp.ID {
		return webauthn.SessionData{}, ports.WebAuthnChallenge{}, errPasskeyInvalid
	}
	sd.Challenge = challenge
	return sd, c, nil
}

// passkeysOf lists user's passkeys in tx's shop.
func passkeysOf(ctx context.Context, tx ports.ShopTx, user ports.UserID) ([]ports.Passkey, error) {
	return tx.Passkeys().ListByUser(ctx, user)
}

// BeginPasskeyRegistration starts registering a passkey for the
// principal on its shop's relying party rp and returns the
// PublicKeyCredentialCreationOptions for navigator.credentials.create
// (a discoverable credential, user verification required, the user's
// passkeys on this shop excluded). The ceremony is stored server-side,
// bound to this session, for PasskeyCeremonyTTL. It needs a recent
// authentication, and AAL2 when the user has a second factor already (a
// password alone never adds a factor to an account that has one); a
// member the shop requires to enrol may register. ErrForbidden under
// impersonation.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p Principal, rp PasskeyRP, c Client) (json.RawMessage, error) {
	if err := s.guardFactorChange(ctx, p, false); err != nil {
		return nil, err
	}
	if p.Pending == PendingStepUp || (p.HasSecondFactor && p.AAL < ports.AAL2) {
		return nil, ErrStepUpRequired
	}
	wa, err := rp.webAuthn()
	if err != nil {
		return nil, err
	}
	user, err := s.User(ctx, p)
	if err != nil {
		return nil, err
	}
	var opts *protocol.CredentialCreation
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		keys, err := passkeysOf(ctx, tx, p.User)
		if err != nil {
			return err
		}
		wu := newPasskeyUser(p.User, user.Email, keys)
		exclude := make([]protocol.CredentialDescriptor, len(wu.creds))
		for i := range wu.creds {
			exclude[i] = wu.creds[i].Descriptor()
		}
		var sd *webauthn.SessionData
		opts, sd, err = wa.BeginRegistration(wu,
			webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
			webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
				ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired,
			}),
			webauthn.WithExclusions(exclude))
		if err != nil {
			return fmt.Errorf("begin registration: %w", err)
		}
		return s.putCeremony(ctx, tx, sd, ports.WebAuthnChallenge{Purpose: ports.ChallengeRegister, UserID: p.User, SessionID: p.Session, RPID: rp.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	return json.Marshal(opts)
}

// FinishPasskeyRegistration verifies the authenticator's attestation
// response (the PublicKeyCredential's JSON) against the ceremony this
// session began, and stores the passkey under name with its counter and
// backup flags. The ceremony is used up whatever the outcome. Like
// confirming a TOTP factor, it proves a second factor in this session:
// the session is raised to AAL2 and counts as re-authenticated, and the
// returned principal says so. ErrInvalid for a response that does not
// verify, a ceremony that is unknown, expired, used or another session's,
// and for a bad name; ErrConflict for a passkey registered already.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p Principal, rp PasskeyRP, name string, response []byte, c Client) (ports.Passkey, Principal, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return ports.Passkey{}, Principal{}, err
	}
	if p.Impersonated() {
		return ports.Passkey{}, Principal{}, errFactorImpersonated
	}
	if err := ports.ValidatePasskeyName(name); err != nil {
		return ports.Passkey{}, Principal{}, err
	}
	wa, err := rp.webAuthn()
	if err != nil {
		return ports.Passkey{}, Principal{}, err
	}
	c = c.clean()
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return ports.Passkey{}, Principal{}, errPasskeyInvalid
	}
	user, err := s.User(ctx, p)
	if err != nil {
		return ports.Passkey{}, Principal{}, err
	}
	var key ports.Passkey
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		sd, ch, err := s.takeCeremony(ctx, tx, parsed.Response.CollectedClientData.Challenge, ports.ChallengeRegister, rp)
		if err != nil {
			return err
		}
		if ch.SessionID != p.Session || ch.UserID != p.User {
			return errPasskeyInvalid
		}
		keys, err := passkeysOf(ctx, tx, p.User)
		if err != nil {
			return err
		}
		cred, err := wa.CreateCredential(newPasskeyUser(p.User, user.Email, keys), sd, parsed)
		if err != nil {
			return errPasskeyInvalid
		}
		transports := make([]string, 0, len(cred.Transport))
		for _, t := range cred.Transport {
			transports = append(transports, string(t))
		}
		key, err = tx.Passkeys().Create(ctx, ports.Passkey{
			ID: ports.NewPasskeyID(), UserID: p.User, CredentialID: cred.ID, RPID: rp.ID, PublicKey: cred.PublicKey,
			SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
			UserVerified: cred.Flags.UserVerified, AAGUID: cred.Authenticator.AAGUID, Transports: transports,
			AttestationFormat: cred.AttestationFormat, Name: name,
		})
		return err
	})
	if errors.Is(err, errPasskeyInvalid) {
		// The ceremony is spent even when the response is refused.
		s.auditAlone(ctx, p.Shop, c, event{actor: p.Actor(), action: ActionPasskeyRegistered, target: "user:" + p.User.String(), outcome: ports.OutcomeDenied})
		s.spendCeremony(ctx, p.Shop, parsed.Response.CollectedClientData.Challenge, ports.ChallengeRegister)
		return ports.Passkey{}, Principal{}, err
	} else if err != nil {
		return ports.Passkey{}, Principal{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	out, err := s.reauthenticate(ctx, p, ports.AAL2, c, event{
		actor: p.Actor(), action: ActionPasskeyRegistered, target: "passkey:" + key.ID.String(), outcome: ports.OutcomeSuccess,
		after: map[string]any{"name": key.Name, "backup_eligible": key.BackupEligible, "rp_id": key.RPID},
	})
	if err != nil {
		return ports.Passkey{}, Principal{}, err
	}
	out.HasSecondFactor = true
	return key, out, nil
}

// spendCeremony removes a ceremony whose finish was refused inside a unit
// of work that rolled back, so a refused response still uses it up.
func (s *Service) spendCeremony(ctx context.Context, shop ports.ShopID, challenge, purpose string) {
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Passkeys().TakeChallenge(ctx, challengeHash(challenge), purpose, s.clock.Now())
		return err
	})
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		s.log.WarnContext(ctx, "spending a refused webauthn ceremony failed", "error", err)
	}
}

// BeginPasskeySignIn starts a passwordless sign-in on shop, whose relying
// party is rp, with a discoverable credential: the returned
// PublicKeyCredentialRequestOptions name no user and no credential, and
// require user verification. The ceremony is stored server-side for
// PasskeyCeremonyTTL. Charged to the client address's sign-in counter
// (ErrRateLimited over it).
func (s *Service) BeginPasskeySignIn(ctx context.Context, shop ports.ShopID, rp PasskeyRP, c Client) (json.RawMessage, error) {
	c = c.clean()
	if err := s.charge(ctx, shop, c, "passkey", ipLimit("passkey", c.IP, s.cfg.Limits.PerIP)); err != nil {
		return nil, err
	}
	wa, err := rp.webAuthn()
	if err != nil {
		return nil, err
	}
	opts, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return s.putCeremony(ctx, tx, sd, ports.WebAuthnChallenge{Purpose: ports.ChallengeSignIn, RPID: rp.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return json.Marshal(opts)
}

// PasskeySignInInput is the finish of a passwordless sign-in.
type PasskeySignInInput struct {
	Shop ports.ShopID
	RP   PasskeyRP
	// Response is the PublicKeyCredential's JSON from
	// navigator.credentials.get.
	Response []byte
	Client   Client
	// Replace is the session cookie the browser presented, if any; its
	// session ends (AUTH-7).
	Replace string
}

// FinishPasskeySignIn verifies a discoverable credential's assertion
// against a ceremony begun on in.Shop and, when it holds, creates a
// session for the passkey's owner at AAL2: a user-verified passkey is
// phishing-resistant multi-factor by itself. The ceremony works once. The
// credential must be one of the shop's, made for in.RP's ID, its user
// handle the owner's, its backup-eligible flag unchanged and its signature
// counter above the stored one (unless both are zero): a lowered counter
// is refused as a cloned authenticator. Every refusal answers the same
// error, matching ports.ErrUnauthenticated. Charged to the client
// address's counter. An owner whose address mandatory single sign-on
// covers (AUTH-14) is refused with *SSORequiredError after the assertion
// verified, and the session made is ended at once.
func (s *Service) FinishPasskeySignIn(ctx context.Context, in PasskeySignInInput) (Issued, error) {
	c := in.Client.clean()
	if err := s.charge(ctx, in.Shop, c, "passkey", ipLimit("passkey", c.IP, s.cfg.Limits.PerIP)); err != nil {
		return Issued{}, err
	}
	wa, err := in.RP.webAuthn()
	if err != nil {
		return Issued{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.Response)
	if err != nil {
		return Issued{}, errPasskeyRefused
	}
	challenge := parsed.Response.CollectedClientData.Challenge
	var out Issued
	var key ports.Passkey
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		sd, _, err := s.takeCeremony(ctx, tx, challenge, ports.ChallengeSignIn, in.RP)
		if err != nil {
			return err
		}
		var owner *passkeyUser
		handler := func(rawID, userHandle []byte) (webauthn.User, error) {
			k, err := tx.Passkeys().ByCredentialID(ctx, rawID)
			if err != nil {
				return nil, err
			}
			if string(userHandle) != string(k.UserID.UUID[:]) {
				return nil, errPasskeyInvalid
			}
			keys, err := passkeysOf(ctx, tx, k.UserID)
			if err != nil {
				return nil, err
			}
			owner = newPasskeyUser(k.UserID, "", keys)
			return owner, nil
		}
		_, cred, err := wa.ValidatePasskeyLogin(handler, sd, parsed)
		if err != nil || owner == nil {
			return errPasskeyInvalid
		}
		if key, err = s.checkAssertion(ctx, tx, owner, cred, in.RP); err != nil {
			return err
		}
		if _, err := tx.Memberships().Get(ctx, key.UserID); err != nil {
			return errPasskeyInvalid // no longer a member
		}
		out, err = s.mintSessionAt(ctx, tx, key.UserID, MethodPasskey, ports.AAL2, c, in.Replace)
		return err
	})
	if errors.Is(err, errPasskeyInvalid) || errors.Is(err, ports.ErrNotFound) {
		s.spendCeremony(ctx, in.Shop, challenge, ports.ChallengeSignIn)
		s.auditAlone(ctx, in.Shop, c, event{actor: "anonymous", action: ActionPasskeySignIn, target: "shop:" + in.Shop.String(), outcome: ports.OutcomeDenied})
		return Issued{}, errPasskeyRefused
	} else if err != nil {
		return Issued{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	// Mandatory single sign-on (AUTH-14) covers passkeys too: an org that
	// requires its IdP for an address decides who may still sign in (a
	// person removed at the IdP must not keep a way in). The session just
	// made ends at once.
	if err := s.requireNoSSOFor(ctx, in.Shop, key.UserID); err != nil {
		if derr := s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Delete(ctx, out.Principal.Session)
		}); derr != nil {
			return Issued{}, fmt.Errorf("passkey sign-in: %w", errors.Join(err, derr))
		}
		return Issued{}, err
	}
	now := s.clock.Now()
	out.Principal.ReauthenticatedAt = ports.Timestamp(now)
	if err := s.assess(ctx, &out.Principal); err != nil {
		return Issued{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	return out, nil
}

// checkAssertion applies what go-webauthn leaves to the relying party
// after it verified cred's assertion for owner: the stored passkey must
// be for rp's ID, the counter must have advanced (the library only flags
// a clone), and the new counter and backup state are stored, compare-and-
// set, so two uses of one counter cannot both pass. errPasskeyInvalid
// otherwise.
func (s *Service) checkAssertion(ctx context.Context, tx ports.ShopTx, owner *passkeyUser, cred *webauthn.Credential, rp PasskeyRP) (ports.Passkey, error) {
	key, ok := owner.key(cred.ID)
	switch {
	case !ok, key.RPID != rp.ID, cred.Authenticator.CloneWarning:
		return ports.Passkey{}, errPasskeyInvalid
	}
	err := tx.Passkeys().RecordUse(ctx, key.ID, ports.PasskeyUse{
		SignCount: cred.Authenticator.SignCount, BackupState: cred.Flags.BackupState, UserVerified: cred.Flags.UserVerified, At: s.clock.Now(),
	})
	if errors.Is(err, ports.ErrConflict) {
		return ports.Passkey{}, errPasskeyInvalid
	} else if err != nil {
		return ports.Passkey{}, err
	}
	return key, nil
}

// BeginPasskeyStepUp starts using one of the principal's passkeys on this
// shop as the session's second factor and returns the
// PublicKeyCredentialRequestOptions (the user's passkeys on this shop
// allowed, user verification required). The ceremony is bound to this
// session. ErrConflict when the user has no passkey on this shop,
// ErrForbidden under impersonation.
func (s *Service) BeginPasskeyStepUp(ctx context.Context, p Principal, rp PasskeyRP, c Client) (json.RawMessage, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return nil, err
	}
	if p.Impersonated() {
		return nil, errFactorImpersonated
	}
	wa, err := rp.webAuthn()
	if err != nil {
		return nil, err
	}
	var opts *protocol.CredentialAssertion
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		keys, err := passkeysOf(ctx, tx, p.User)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return errNoPasskey
		}
		var sd *webauthn.SessionData
		opts, sd, err = wa.BeginLogin(newPasskeyUser(p.User, "", keys), webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return fmt.Errorf("begin login: %w", err)
		}
		return s.putCeremony(ctx, tx, sd, ports.WebAuthnChallenge{Purpose: ports.ChallengeStepUp, UserID: p.User, SessionID: p.Session, RPID: rp.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("begin passkey step-up: %w", err)
	}
	return json.Marshal(opts)
}

// FinishPasskeyStepUp verifies an assertion against the step-up this
// session began: the credential must be one of the principal's own
// passkeys on this shop (another user's is refused), for rp's ID, its
// counter advanced. The session is then AAL2 and re-authenticated now.
// The ceremony works once. Attempts are charged to the account's
// second-factor counter; a refusal is audited. ErrInvalid for a refused
// assertion.
func (s *Service) FinishPasskeyStepUp(ctx context.Context, p Principal, rp PasskeyRP, response []byte, c Client) (Principal, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return Principal{}, err
	}
	if p.Impersonated() {
		return Principal{}, errFactorImpersonated
	}
	c = c.clean()
	if err := s.charge(ctx, p.Shop, c, "2fa", accountLimit("2fa", ports.UserFactors(p.User).String(), s.cfg.Limits.PerAccount)); err != nil {
		return Principal{}, err
	}
	wa, err := rp.webAuthn()
	if err != nil {
		return Principal{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Principal{}, errPasskeyInvalid
	}
	challenge := parsed.Response.CollectedClientData.Challenge
	var key ports.Passkey
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		sd, ch, err := s.takeCeremony(ctx, tx, challenge, ports.ChallengeStepUp, rp)
		if err != nil {
			return err
		}
		if ch.SessionID != p.Session || ch.UserID != p.User {
			return errPasskeyInvalid
		}
		keys, err := passkeysOf(ctx, tx, p.User)
		if err != nil {
			return err
		}
		owner := newPasskeyUser(p.User, "", keys)
		cred, err := wa.ValidateLogin(owner, sd, parsed)
		if err != nil {
			return errPasskeyInvalid
		}
		key, err = s.checkAssertion(ctx, tx, owner, cred, rp)
		return err
	})
	if errors.Is(err, errPasskeyInvalid) {
		s.spendCeremony(ctx, p.Shop, challenge, ports.ChallengeStepUp)
		s.auditAlone(ctx, p.Shop, c, event{actor: p.Actor(), action: ActionStepUp, target: "session:" + p.Session.String(), outcome: ports.OutcomeDenied})
		return Principal{}, err
	} else if err != nil {
		return Principal{}, fmt.Errorf("passkey step-up: %w", err)
	}
	out, err := s.reauthenticate(ctx, p, ports.AAL2, c, event{
		actor: p.Actor(), action: ActionStepUp, target: "session:" + p.Session.String(), outcome: ports.OutcomeSuccess,
		after: map[string]any{"method": "passkey", "passkey": key.ID.String(), "aal": ports.AAL2},
	})
	if err != nil {
		return Principal{}, err
	}
	out.HasSecondFactor = true
	return out, nil
}

// Passkeys lists the principal's passkeys on its shop, oldest first.
func (s *Service) Passkeys(ctx context.Context, p Principal) ([]ports.Passkey, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return nil, err
	}
	var out []ports.Passkey
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = passkeysOf(ctx, tx, p.User)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return out, nil
}

// RenamePasskey sets the name of the principal's passkey id, audited.
// ErrNotFound when it is not one of the principal's passkeys on this
// shop; ErrForbidden under impersonation.
func (s *Service) RenamePasskey(ctx context.Context, p Principal, id ports.PasskeyID, name string, c Client) (ports.Passkey, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return ports.Passkey{}, err
	}
	if p.Impersonated() {
		return ports.Passkey{}, errFactorImpersonated
	}
	name = strings.TrimSpace(name)
	var out ports.Passkey
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if out, err = tx.Passkeys().Rename(ctx, p.User, id, name); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c.clean(), event{actor: p.Actor(), action: ActionPasskeyRenamed, target: "passkey:" + id.String(),
			outcome: ports.OutcomeSuccess, after: map[string]string{"name": name}})
	})
	if err != nil {
		return ports.Passkey{}, fmt.Errorf("rename passkey: %w", err)
	}
	return out, nil
}

// RemovePasskey removes the principal's passkey id, audited. A sensitive
// action (RequireRecentAuth). ErrConflict when it is the principal's last
// second factor and the shop's policy requires the principal's role to
// use one; ErrNotFound when it is not one of the principal's passkeys on
// this shop.
func (s *Service) RemovePasskey(ctx context.Context, p Principal, id ports.PasskeyID, c Client) error {
	if err := s.guardFactorChange(ctx, p, true); err != nil {
		return err
	}
	policy, err := s.policyOf(ctx, p.Shop)
	if err != nil {
		return err
	}
	hasTOTP := false
	if policy.Requires(p.Role) {
		f, err := s.readTOTP(ctx, ports.UserFactors(p.User))
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("remove passkey: %w", err)
		}
		hasTOTP = err == nil && f.Confirmed()
	}
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if policy.Requires(p.Role) && !hasTOTP {
			keys, err := passkeysOf(ctx, tx, p.User)
			if err != nil {
				return err
			}
			if len(keys) <= 1 {
				return fmt.Errorf("this shop requires your role to use a second factor, and this passkey is your last: %w", ports.ErrConflict)
			}
		}
		if err := tx.Passkeys().Delete(ctx, p.User, id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c.clean(), event{actor: p.Actor(), action: ActionPasskeyRemoved, target: "passkey:" + id.String(), outcome: ports.OutcomeSuccess})
	})
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	return nil
}

// hasPasskey reports whether user has a passkey on shop.
func (s *Service) hasPasskey(ctx context.Context, shop ports.ShopID, user ports.UserID) (bool, error) {
	var n int
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		keys, err := passkeysOf(ctx, tx, user)
		n = len(keys)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return false, fmt.Errorf("read passkeys: %w", err)
	}
	return n > 0, nil
}
