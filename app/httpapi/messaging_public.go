package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// Body caps of the public messaging routes: a one-click POST is one short
// form field; Twilio's form posts are a few KiB; Resend's JSON events are
// small but carry headers and tags.
const (
	maxUnsubscribeBody = 1 << 10
	maxTwilioBody      = 64 << 10
	maxResendBody      = 256 << 10
)

var unsubscribeForm = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>Unsubscribe</title></head>
<body>{{if .Page.Already}}<p>{{.Page.Email}} is unsubscribed from {{.Page.ShopName}}'s marketing messages.</p>
{{else}}<form method="post" action="/u/{{.Token}}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<p>Stop marketing messages from {{.Page.ShopName}} to {{.Page.Email}}, by e-mail and by text?</p>
<button type="submit">Unsubscribe</button>
</form>{{end}}</body></html>
`))

var unsubscribedPage = template.Must(template.New("unsubscribed").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>Unsubscribed</title></head>
<body><p>You are unsubscribed from {{.}}'s marketing messages.</p></body></html>
`))

func htmlHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// unsubscribePage answers the GET of a List-Unsubscribe link with a page
// whose button posts it: the GET changes nothing (mail scanners follow
// links). An invalid token is a 404 whatever is wrong with it.
func (h *messagingHandlers) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	shop, ok := ShopFrom(r.Context())
	if !ok {
		WriteProblem(w, r, fmt.Errorf("%w: %w", errNoShop, ports.ErrNotFound))
		return
	}
	token := r.PathValue("token")
	page, err := h.svc.PreviewUnsubscribe(r.Context(), shop.ID, token)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	htmlHeaders(w)
	_ = unsubscribeForm.Execute(w, struct {
		Token string
		Page  messaging.UnsubscribePage
	}{token, page})
}

// unsubscribe is RFC 8058's one-click POST: the body must be the form
// field List-Unsubscribe=One-Click (url-encoded or multipart, at most
// 1 KiB); no sign-in, the signed token is the credential.
func (h *messagingHandlers) unsubscribe(w http.ResponseWriter, r *http.Request) {
	shop, ok := ShopFrom(r.Context())
	if !ok {
		WriteProblem(w, r, fmt.Errorf("%w: %w", errNoShop, ports.ErrNotFound))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUnsubscribeBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxUnsubscribeBody)
	default:
		err = errors.New("want a form")
	}
	if err != nil || r.PostForm.Get("List-Unsubscribe") != "One-Click" {
		WriteProblem(w, r, ports.Invalid("body", "must be the form field List-Unsubscribe=One-Click (RFC 8058)"))
		return
	}
	c := clientOf(r, h.d.TrustForwardedFor)
	err = h.svc.Unsubscribe(r.Context(), messaging.UnsubscribeRequest{Shop: shop.ID, Token: r.PathValue("token"),
		IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	htmlHeaders(w)
	_ = unsubscribedPage.Execute(w, shop.Name)
}

// verified reads a webhook's body (at most max bytes) and has verifier
// check it against the URL the provider called, as configured, before
// anything in it is parsed. It answers the problem itself and returns
// false when the request is refused.
func (h *messagingHandlers) verified(w http.ResponseWriter, r *http.Request, verifier ports.WebhookVerifier, max int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		WriteProblem(w, r, ports.Invalid("body", fmt.Sprintf("must be at most %d bytes", max)))
		return nil, false
	}
	req := ports.WebhookRequest{URL: h.d.WebhookBase + r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	if err := verifier.Verify(r.Context(), req); err != nil {
		if !errors.Is(err, ports.ErrUnauthenticated) {
			err = fmt.Errorf("webhook verification: %v: %w", err, ports.ErrUnauthenticated)
		}
		loggerFrom(r.Context()).Warn("webhook refused", zap.String("route", routeOf(r)), zap.Error(err))
		WriteProblem(w, r, err)
		return nil, false
	}
	return body, true
}

// twiml answers Twilio with an empty response: replies go through the
// outbox, never inline.
func twiml(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

// loggableServiceSID is a webhook's MessagingServiceSid as the log may
// show it: a Messaging Service SID (MG and 32 hex digits) as it is,
// anything else only by its length, since the sender chose it (a card
// number or a token typed into the field must not reach the log).
func loggableServiceSID(sid string) string {
	rest, ok := strings.CutPrefix(sid, "MG")
	if ok && len(rest) == 32 && strings.Trim(strings.ToLower(rest), "0123456789abcdef") == "" {
		return sid
	}
	return fmt.Sprintf("[not a Messaging Service SID: %d bytes]", len(sid))
}

// twilioInbound applies an inbound SMS: verified first, then routed to
// the shop whose Messaging Service received it, deduplicated by
// MessageSid in that shop's unit of work, its keyword applied. A message
// for no shop's service is acknowledged and changes nothing.
func (h *messagingHandlers) twilioInbound(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, h.d.Twilio, maxTwilioBody)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("MessageSid") == "" || form.Get("From") == "" {
		WriteProblem(w, r, ports.Invalid("body", "want Twilio's form with MessageSid and From"))
		return
	}
	shop, err := h.svc.ShopByMessagingService(r.Context(), form.Get("MessagingServiceSid"))
	if errors.Is(err, ports.ErrNotFound) {
		loggerFrom(r.Context()).Warn("inbound SMS for no shop's messaging service", zap.String("messaging_service", loggableServiceSID(form.Get("MessagingServiceSid"))))
		twiml(w)
		return
	}
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	_, err = h.svc.ReceiveSMS(r.Context(), messaging.InboundSMS{Shop: shop, Provider: "twilio", EventID: form.Get("MessageSid"),
		From: form.Get("From"), Body: form.Get("Body"), RequestID: RequestIDFrom(r.Context())})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	twiml(w)
}

// twilioStates maps Twilio's MessageStatus to an outbox state; statuses
// not listed (queued, accepted, sending, scheduled) record nothing.
var twilioStates = map[string]ports.MessageState{
	"sent": ports.MessageSent, "delivered": ports.MessageDelivered, "read": ports.MessageDelivered,
	"undelivered": ports.MessageFailed, "failed": ports.MessageFailed, "canceled": ports.MessageFailed,
}

// twilioStatus applies an SMS status callback. The shop and message come
// from the callback URL the outbox gave Twilio, which the signature
// covers; each (MessageSid, status) pair is applied once.
func (h *messagingHandlers) twilioStatus(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, h.d.Twilio, maxTwilioBody)
	if !ok {
		return
	}
	shop, err1 := ports.ParseShopID(r.PathValue("shop"))
	msg, err2 := ports.ParseMessageID(r.PathValue("message"))
	form, err3 := url.ParseQuery(string(body))
	if err := errors.Join(err1, err2, err3); err != nil || form.Get("MessageSid") == "" || form.Get("MessageStatus") == "" {
		WriteProblem(w, r, ports.Invalid("request", "want a status callback URL of the outbox and Twilio's form"))
		return
	}
	status := form.Get("MessageStatus")
	_, err := h.svc.ReportStatus(r.Context(), messaging.StatusReport{Shop: shop, Provider: "twilio",
		EventID: form.Get("MessageSid") + ":" + status, Message: msg, Channel: ports.ChannelSMS, ProviderID: form.Get("MessageSid"),
		Status: status, State: twilioStates[status], RequestID: RequestIDFrom(r.Context())})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resendStates maps Resend's event types to an outbox state; a spam
// complaint withdraws marketing consent instead.
var resendStates = map[string]ports.MessageState{
	"email.sent": ports.MessageSent, "email.delivered": ports.MessageDelivered,
	"email.bounced": ports.MessageFailed, "email.failed": ports.MessageFailed,
}

// resendEvent applies a Resend webhook event: verified (Svix signature
// and timestamp tolerance) first, then routed by the e-mail's ID to the
// shop whose outbox sent it, deduplicated by svix-id in that shop's unit
// of work. An e-mail no outbox knows (yet) answers 404, so that Svix
// retries it later.
func (h *messagingHandlers) resendEvent(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, h.d.Resend, maxResendBody)
	if !ok {
		return
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			EmailID string `json:"email_id"`
		} `json:"data"`
	}
	eventID := r.Header.Get("svix-id")
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" || ev.Data.EmailID == "" || eventID == "" {
		WriteProblem(w, r, ports.Invalid("body", "want a Resend e-mail event with an svix-id"))
		return
	}
	shop, err := h.svc.ShopByProviderMessage(r.Context(), ports.ChannelEmail, ev.Data.EmailID)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	_, err = h.svc.ReportStatus(r.Context(), messaging.StatusReport{Shop: shop, Provider: "resend", EventID: eventID,
		Channel: ports.ChannelEmail, ProviderID: ev.Data.EmailID, Status: ev.Type, State: resendStates[ev.Type],
		Complaint: ev.Type == "email.complained", RequestID: RequestIDFrom(r.Context())})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
