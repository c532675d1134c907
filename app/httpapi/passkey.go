package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// passkeyRoutes registers the passkey API (AUTH-12) on a shop's host. The
// relying party of every ceremony is the shop's host, built from the
// configured public URL and the shop's slug (never from the request's
// Host header), so a passkey made on shop A is neither offered nor
// accepted on shop B:
//
//	POST   /auth/passkeys/signin/begin      public: → PublicKeyCredentialRequestOptions (discoverable)
//	POST   /auth/passkeys/signin/finish     public: {credential} → session (AAL2)
//	POST   /auth/passkeys/register/begin    → PublicKeyCredentialCreationOptions; needs a recent authentication
//	POST   /auth/passkeys/register/finish   {name, credential} → {passkey, session}: the session is AAL2
//	POST   /auth/passkeys/step-up/begin     → PublicKeyCredentialRequestOptions (the user's passkeys on this shop)
//	POST   /auth/passkeys/step-up/finish    {credential} → {session}: AAL2, re-authenticated now
//	GET    /auth/passkeys                   my passkeys on this shop
//	PATCH  /auth/passkeys/{passkey}         {name}: rename
//	DELETE /auth/passkeys/{passkey}         remove (sensitive)
//
// The register and step-up routes serve a session that must still step
// up or enrol (beforeSecondFactor).
func passkeyRoutes(rt *router, h *authHandlers) {
	rt.public("POST", "/auth/passkeys/signin/begin", h.beginPasskeySignIn)
	rt.public("POST", "/auth/passkeys/signin/finish", h.finishPasskeySignIn).json(passkeyCredentialRequest{})
	rt.beforeSecondFactor("POST", "/auth/passkeys/register/begin", access.AccountSelf, h.beginPasskeyRegistration)
	rt.beforeSecondFactor("POST", "/auth/passkeys/register/finish", access.AccountSelf, h.finishPasskeyRegistration).json(passkeyRegisterRequest{})
	rt.beforeSecondFactor("POST", "/auth/passkeys/step-up/begin", access.AccountSelf, h.beginPasskeyStepUp)
	rt.beforeSecondFactor("POST", "/auth/passkeys/step-up/finish", access.AccountSelf, h.finishPasskeyStepUp).json(passkeyCredentialRequest{})
	rt.member("GET", "/auth/passkeys", access.AccountSelf, false, h.listPasskeys)
	rt.member("PATCH", "/auth/passkeys/{passkey}", access.AccountSelf, false, h.renamePasskey).json(passkeyRenameRequest{})
	rt.member("DELETE", "/auth/passkeys/{passkey}", access.AccountSelf, false, h.removePasskey)
}

// relyingParty is the shop's relying party: its host under the public
// URL.
func (h *authHandlers) relyingParty(r *http.Request) auth.PasskeyRP {
	shop, _ := ShopFrom(r.Context())
	origin, _ := url.Parse(h.shops.URL(shop.Slug, ""))
	return auth.PasskeyRP{ID: origin.Hostname(), Origin: origin.Scheme + "://" + origin.Host, Name: shop.Name}
}

// passkeyCredentialRequest is the body that finishes a passkey sign-in
// or step-up.
type passkeyCredentialRequest struct {
	Credential json.RawMessage `json:"credential" doc:"the PublicKeyCredential from navigator.credentials.get, as JSON (PublicKeyCredential.toJSON())"`
}

// passkeyRegisterRequest is the body of POST /auth/passkeys/register/finish.
type passkeyRegisterRequest struct {
	Name       string          `json:"name" doc:"a label for the passkey (1 to 100 bytes)"`
	Credential json.RawMessage `json:"credential" doc:"the PublicKeyCredential from navigator.credentials.create, as JSON (PublicKeyCredential.toJSON())"`
}

// passkeyRenameRequest is the body of PATCH /auth/passkeys/{passkey}.
type passkeyRenameRequest struct {
	Name string `json:"name" doc:"the passkey's new label (1 to 100 bytes)"`
}

type passkeyJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	RPID           string     `json:"rp_id"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backup_state"`
	Transports     []string   `json:"transports"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
}

func passkeyOf(k ports.Passkey) passkeyJSON {
	out := passkeyJSON{ID: k.ID.String(), Name: k.Name, RPID: k.RPID, BackupEligible: k.BackupEligible, BackupState: k.BackupState,
		Transports: k.Transports, CreatedAt: k.CreatedAt}
	if out.Transports == nil {
		out.Transports = []string{}
	}
	if !k.LastUsedAt.IsZero() {
		out.LastUsedAt = &k.LastUsedAt
	}
	return out
}

// writeOptions answers a ceremony's options; they hold a fresh challenge.
func writeOptions(w http.ResponseWriter, opts json.RawMessage) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(opts)
}

func (h *authHandlers) beginPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	opts, err := h.svc.BeginPasskeySignIn(r.Context(), shop.ID, h.relyingParty(r), h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeOptions(w, opts)
}

func (h *authHandlers) finishPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	var in passkeyCredentialRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	is, err := h.svc.FinishPasskeySignIn(r.Context(), auth.PasskeySignInInput{
		Shop: shop.ID, RP: h.relyingParty(r), Response: in.Credential, Client: h.client(r), Replace: presented(r),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

func (h *authHandlers) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	opts, err := h.svc.BeginPasskeyRegistration(r.Context(), p, h.relyingParty(r), h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeOptions(w, opts)
}

func (h *authHandlers) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var in passkeyRegisterRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	k, np, err := h.svc.FinishPasskeyRegistration(r.Context(), p, h.relyingParty(r), in.Name, in.Credential, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, map[string]any{"passkey": passkeyOf(k), "session": bodyOf(np)})
}

func (h *authHandlers) beginPasskeyStepUp(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	opts, err := h.svc.BeginPasskeyStepUp(r.Context(), p, h.relyingParty(r), h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeOptions(w, opts)
}

func (h *authHandlers) finishPasskeyStepUp(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var in passkeyCredentialRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	np, err := h.svc.FinishPasskeyStepUp(r.Context(), p, h.relyingParty(r), in.Credential, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"session": bodyOf(np)})
}

func (h *authHandlers) listPasskeys(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	keys, err := h.svc.Passkeys(r.Context(), p)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]passkeyJSON, len(keys))
	for i, k := range keys {
		out[i] = passkeyOf(k)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"passkeys": out})
}

func (h *authHandlers) renamePasskey(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	id, err := ports.ParsePasskeyID(r.PathValue("passkey"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var in passkeyRenameRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	k, err := h.svc.RenamePasskey(r.Context(), p, id, in.Name, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, passkeyOf(k))
}

func (h *authHandlers) removePasskey(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	id, err := ports.ParsePasskeyID(r.PathValue("passkey"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.RemovePasskey(r.Context(), p, id, h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
