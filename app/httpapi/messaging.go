package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// MessagingDeps is what the messaging routes need. The member routes run
// on a shop's host with the authentication routes' session, so Deps.Auth
// must be set too.
type MessagingDeps struct {
	Service *messaging.Service
	// WebhookBase is the scheme and host the providers call the webhooks
	// on, as configured (behind a proxy the request's own URL is not the
	// one the provider signed): "https://hooks.example.com".
	WebhookBase string
	// Twilio verifies X-Twilio-Signature on the Twilio webhooks; nil
	// leaves those routes out.
	Twilio ports.WebhookVerifier
	// Resend verifies the Svix signature on the Resend webhook; nil
	// leaves that route out.
	Resend ports.WebhookVerifier
	// TrustForwardedFor takes the client address for audit events from
	// X-Forwarded-For (see AuthDeps).
	TrustForwardedFor bool
}

// messagingRoutes registers the messaging API (MSG-2 … MSG-6); the
// permission each member route needs is the README's "Roles and
// permissions" table:
//
//	GET  /messaging/contacts?after=&limit=        messaging.read    contacts with their consent
//	GET  /messaging/contacts/{contact}            messaging.read
//	PUT  /messaging/contacts/{contact}/consent    messaging.manage  {topic, opted_out} (source "admin")
//	GET  /messaging/settings                      messaging.read
//	PUT  /messaging/settings                      messaging.manage  {messaging_service_sid, help_text, send_from, send_until, time_zone}
//	GET  /messaging/messages?state=&contact=&limit=  messaging.read the outbox
//	POST /messaging/messages                      messaging.send    {channel, category, to: {phone, email}, body, subject?, html?} → 202
//	POST /messaging/messages/{message}/retry      messaging.manage  a dead or unknown message back in the queue
//	GET  /u/{token}                               public (shop host)  the unsubscribe confirmation page; changes nothing
//	POST /u/{token}                               public (shop host)  RFC 8058 one-click unsubscribe (List-Unsubscribe=One-Click)
//	POST /webhooks/twilio/sms                     signature (any host)  inbound SMS: keywords
//	POST /webhooks/twilio/status/{shop}/{message} signature (any host)  SMS status callbacks
//	POST /webhooks/resend                         signature (any host)  e-mail events (Svix)
//
// The member routes are also served under HQ.
func messagingRoutes(rt *router, d MessagingDeps) {
	h := &messagingHandlers{svc: d.Service, d: d}
	rt.member("GET", "/messaging/contacts", access.MessagingRead, true, h.listContacts)
	rt.member("GET", "/messaging/contacts/{contact}", access.MessagingRead, true, h.getContact)
	rt.member("PUT", "/messaging/contacts/{contact}/consent", access.MessagingManage, true, h.setConsent).json(consentRequest{})
	rt.member("GET", "/messaging/settings", access.MessagingRead, true, h.getSettings)
	rt.member("PUT", "/messaging/settings", access.MessagingManage, true, h.saveSettings).json(settingsJSON{})
	rt.member("GET", "/messaging/messages", access.MessagingRead, true, h.listMessages)
	rt.member("POST", "/messaging/messages", access.MessagingSend, true, h.send).json(sendRequest{})
	rt.member("POST", "/messaging/messages/{message}/retry", access.MessagingManage, true, h.retry)
	rt.signed("GET", UnsubscribeRoute, h.unsubscribePage)
	rt.public("POST", UnsubscribeRoute, h.unsubscribe)
	if d.Twilio != nil {
		rt.bare("POST", "/webhooks/twilio/sms", h.twilioInbound)
		rt.bare("POST", "/webhooks/twilio/status/{shop}/{message}", h.twilioStatus)
	}
	if d.Resend != nil {
		rt.bare("POST", "/webhooks/resend", h.resendEvent)
	}
}

// UnsubscribeRoute is the one-click unsubscribe route on a shop's host.
const UnsubscribeRoute = "/u/{token}"

type messagingHandlers struct {
	svc *messaging.Service
	d   MessagingDeps
}

type consentJSON struct {
	OptedOut  bool      `json:"opted_out"`
	Source    string    `json:"source"`
	ChangedAt time.Time `json:"changed_at"`
}

type contactJSON struct {
	ID        string                 `json:"id"`
	Phone     string                 `json:"phone,omitempty"`
	Email     string                 `json:"email,omitempty"`
	TimeZone  string                 `json:"time_zone,omitempty"`
	Consent   map[string]consentJSON `json:"consent"`
	CreatedAt time.Time              `json:"created_at"`
}

func contactOf(c messaging.ConsentState) contactJSON {
	out := contactJSON{ID: c.Contact.ID.String(), Phone: c.Contact.Phone, Email: c.Contact.Email, TimeZone: c.Contact.TimeZone,
		Consent: map[string]consentJSON{}, CreatedAt: c.Contact.CreatedAt}
	for _, r := range c.Records {
		out.Consent[string(r.Topic)] = consentJSON{OptedOut: r.OptedOut, Source: string(r.Source), ChangedAt: r.ChangedAt}
	}
	return out
}

// messageJSON is a message as the outbox lists it: its routing and state,
// not its content.
type messageJSON struct {
	ID             string     `json:"id"`
	Contact        string     `json:"contact"`
	Channel        string     `json:"channel"`
	Category       string     `json:"category"`
	To             string     `json:"to"`
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	RunAt          time.Time  `json:"run_at"`
	HeldFor        string     `json:"held_for,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	ProviderID     string     `json:"provider_id,omitempty"`
	ProviderStatus string     `json:"provider_status,omitempty"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

func messageOf(m ports.OutboxMessage) messageJSON {
	out := messageJSON{ID: m.ID.String(), Contact: m.Contact.String(), Channel: string(m.Channel), Category: string(m.Category),
		To: m.To(), State: string(m.State), Attempts: m.Attempts, RunAt: m.RunAt, HeldFor: m.HeldFor, LastError: m.LastError,
		ProviderID: m.ProviderID, ProviderStatus: m.ProviderStatus, CreatedAt: m.CreatedAt}
	if !m.SentAt.IsZero() {
		out.SentAt = &m.SentAt
	}
	return out
}

type settingsJSON struct {
	MessagingServiceSID string `json:"messaging_service_sid"`
	HelpText            string `json:"help_text"`
	SendFrom            int    `json:"send_from"`
	SendUntil           int    `json:"send_until"`
	TimeZone            string `json:"time_zone"`
}

func settingsOf(s ports.MessagingSettings) settingsJSON {
	return settingsJSON{s.MessagingServiceSID, s.HelpText, s.SendFrom, s.SendUntil, s.TimeZone}
}

// limitParam parses ?limit= (empty: 0, the store's default).
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, ports.Invalid("limit", "must be a non-negative number")
	}
	return n, nil
}

func (h *messagingHandlers) listContacts(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var after ports.ContactID
	if v := r.URL.Query().Get("after"); v != "" {
		if after, err = ports.ParseContactID(v); err != nil {
			WriteProblem(w, r, err)
			return
		}
	}
	list, err := h.svc.ListContacts(r.Context(), after, limit)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]contactJSON, len(list))
	for i, c := range list {
		out[i] = contactOf(c)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"contacts": out})
}

// contactParam parses {contact}; a malformed ID names no contact (404).
func contactParam(r *http.Request) (ports.ContactID, error) {
	id, err := ports.ParseContactID(r.PathValue("contact"))
	if err != nil {
		return id, fmt.Errorf("no such contact: %w", ports.ErrNotFound)
	}
	return id, nil
}

func (h *messagingHandlers) getContact(w http.ResponseWriter, r *http.Request) {
	id, err := contactParam(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	c, err := h.svc.Consent(r.Context(), id)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, contactOf(c))
}

// consentRequest is the body of PUT /messaging/contacts/{contact}/consent.
type consentRequest struct {
	Topic    string `json:"topic"`
	OptedOut *bool  `json:"opted_out" doc:"required: true opts the contact out of the topic, false back in"`
}

func (h *messagingHandlers) setConsent(w http.ResponseWriter, r *http.Request) {
	id, err := contactParam(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var in consentRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	if in.OptedOut == nil {
		WriteProblem(w, r, ports.Invalid("opted_out", "must be true or false"))
		return
	}
	c, err := h.svc.SetConsent(r.Context(), messaging.ConsentChange{Contact: id, Topic: ports.ConsentTopic(in.Topic), OptedOut: *in.OptedOut, Source: ports.SourceAdmin})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, contactOf(c))
}

func (h *messagingHandlers) getSettings(w http.ResponseWriter, r *http.Request) {
	s, err := h.svc.Settings(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, settingsOf(s))
}

func (h *messagingHandlers) saveSettings(w http.ResponseWriter, r *http.Request) {
	var in settingsJSON
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	s, err := h.svc.SaveSettings(r.Context(), ports.MessagingSettings{MessagingServiceSID: in.MessagingServiceSID, HelpText: in.HelpText,
		SendFrom: in.SendFrom, SendUntil: in.SendUntil, TimeZone: in.TimeZone})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, settingsOf(s))
}

func (h *messagingHandlers) listMessages(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	q := ports.OutboxQuery{State: ports.MessageState(r.URL.Query().Get("state")), Limit: limit}
	if v := r.URL.Query().Get("contact"); v != "" {
		if q.Contact, err = ports.ParseContactID(v); err != nil {
			WriteProblem(w, r, err)
			return
		}
	}
	list, err := h.svc.ListMessages(r.Context(), q)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]messageJSON, len(list))
	for i, m := range list {
		out[i] = messageOf(m)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"messages": out})
}

// sendRequest is the body of POST /messaging/messages.
type sendRequest struct {
	Channel  string `json:"channel"`
	Category string `json:"category"`
	To       struct {
		Phone    string `json:"phone"`
		Email    string `json:"email"`
		TimeZone string `json:"time_zone"`
	} `json:"to"`
	Body    string `json:"body"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
}

func (h *messagingHandlers) send(w http.ResponseWriter, r *http.Request) {
	var in sendRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	m, err := h.svc.Send(r.Context(), messaging.Message{Channel: ports.Channel(in.Channel), Category: ports.MessageCategory(in.Category),
		To: messaging.Address{Phone: in.To.Phone, Email: in.To.Email, TimeZone: in.To.TimeZone}, Body: in.Body, Subject: in.Subject, HTML: in.HTML})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, messageOf(m))
}

func (h *messagingHandlers) retry(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseMessageID(r.PathValue("message"))
	if err != nil {
		WriteProblem(w, r, fmt.Errorf("no such message: %w", ports.ErrNotFound))
		return
	}
	m, err := h.svc.RetryMessage(r.Context(), id)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, messageOf(m))
}

// errNoShop answers a shop-host route reached without a shop.
var errNoShop = errors.New("no shop at this host")
