package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Outbox implements ports.ShopTx.
func (t *Shop) Outbox() ports.OutboxRepo { return outbox{t} }

// outbox is the outbox of one Shop. Every statement binds t.shop; none
// accepts a shop from the caller. Claiming due messages of every shop
// (ports.OutboxQueue) is the adapters' own: it reads across shops.
type outbox struct{ t *Shop }

var _ ports.OutboxRepo = outbox{}

// OutboxRow is one row of outbox_messages as OutboxCols select it. The
// adapters' claims across shops scan into it and hand the rows to
// ClaimedMessages.
type OutboxRow struct {
	ShopID         ports.ShopID    `db:"shop_id"`
	ID             ports.MessageID `db:"id"`
	Contact        ports.ContactID `db:"contact_id"`
	Channel        string          `db:"channel"`
	Category       string          `db:"category"`
	Recipient      string          `db:"recipient"`
	Payload        []byte          `db:"payload"`
	State          string          `db:"state"`
	Attempts       int             `db:"attempts"`
	MaxAttempts    int             `db:"max_attempts"`
	Dispatched     int             `db:"dispatched"`
	RunAt          Time            `db:"run_at"`
	LockedUntil    Time            `db:"locked_until"`
	LastError      string          `db:"last_error"`
	HeldFor        string          `db:"held_for"`
	ProviderID     sql.NullString  `db:"provider_id"`
	ProviderStatus string          `db:"provider_status"`
	SentAt         Time            `db:"sent_at"`
	CreatedAt      Time            `db:"created_at"`
	UpdatedAt      Time            `db:"updated_at"`
}

// OutboxCols are the columns of outbox_messages an OutboxRow holds, in a
// form a SELECT or RETURNING list takes.
const OutboxCols = `shop_id, id, contact_id, channel, category, recipient, payload, state, attempts, max_attempts, dispatched,
	run_at, locked_until, last_error, held_for, provider_id, provider_status, sent_at, created_at, updated_at`

// outboxPayload is a message's content as stored: one of the two is set.
type outboxPayload struct {
	SMS   *ports.SMS   `json:"sms,omitempty"`
	Email *ports.Email `json:"email,omitempty"`
}

// port is the row as a message; a payload that is not the stored JSON is
// an error named with the dialect.
func (r OutboxRow) port(d Dialect) (ports.OutboxMessage, error) {
	m := ports.OutboxMessage{
		ID: r.ID, ShopID: r.ShopID, Contact: r.Contact, Channel: ports.Channel(r.Channel), Category: ports.MessageCategory(r.Category),
		State: ports.MessageState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, Dispatched: r.Dispatched,
		RunAt: r.RunAt.Time, LockedUntil: r.LockedUntil.Time, LastError: r.LastError, HeldFor: r.HeldFor, ProviderID: r.ProviderID.String,
		ProviderStatus: r.ProviderStatus, SentAt: r.SentAt.Time, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	var p outboxPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("%s: outbox message %s: payload: %v", d.Name(), r.ID, err)
	}
	if p.SMS != nil {
		m.SMS = *p.SMS
	}
	if p.Email != nil {
		m.Email = *p.Email
	}
	return m, nil
}

func messagesOf(d Dialect, rows []OutboxRow) ([]ports.OutboxMessage, error) {
	out := make([]ports.OutboxMessage, len(rows))
	for i, row := range rows {
		m, err := row.port(d)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// ClaimedMessages turns the rows an adapter's claim returned into
// messages, ordered by run time then ID as ports.OutboxQueue promises
// (a claim's RETURNING list comes back in no particular order). Errors
// are named with d.
func ClaimedMessages(d Dialect, rows []OutboxRow) ([]ports.OutboxMessage, error) {
	out, err := messagesOf(d, rows)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ports.OutboxMessage) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

// Enqueue inserts the message as queued; its content is stored as JSON
// (jsonb on Postgres). Content a text column refuses (a NUL, invalid
// UTF-8) is ErrInvalid from the message's own validation, on every
// database.
func (r outbox) Enqueue(ctx context.Context, m ports.OutboxMessage) (ports.OutboxMessage, error) {
	if err := m.Validate(); err != nil {
		return ports.OutboxMessage{}, err
	}
	var p outboxPayload
	if m.Channel == ports.ChannelSMS {
		p.SMS = &m.SMS
	} else {
		p.Email = &m.Email
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("%s: enqueue message: %w", r.t.d.Name(), ports.Invalid("payload", err.Error()))
	}
	now := r.t.now()
	runAt := now
	if !m.RunAt.IsZero() {
		runAt = m.RunAt
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	return r.one(ctx, "enqueue message", `INSERT INTO outbox_messages (shop_id, id, contact_id, channel, category, recipient, payload,
			state, attempts, max_attempts, run_at, held_for, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, `+r.t.cast("?", "jsonb")+`, 'queued', 0, ?, ?, ?, ?, ?) RETURNING `+OutboxCols,
		r.t.shop, m.ID, m.Contact, m.Channel, m.Category, m.To(), string(payload), m.MaxAttempts, runAt, m.HeldFor, now, now)
}

// one runs query, which returns at most one message: none is ErrNotFound
// named with op.
func (r outbox) one(ctx context.Context, op, query string, args ...any) (ports.OutboxMessage, error) {
	var rows []OutboxRow
	if err := r.t.sel(ctx, &rows, query, args...); err != nil {
		return ports.OutboxMessage{}, r.t.wrap(op, err)
	}
	if len(rows) == 0 {
		return ports.OutboxMessage{}, r.t.notFound(op)
	}
	return rows[0].port(r.t.d)
}

func (r outbox) Get(ctx context.Context, id ports.MessageID) (ports.OutboxMessage, error) {
	return r.one(ctx, "get message", `SELECT `+OutboxCols+` FROM outbox_messages WHERE shop_id = ? AND id = ?`, r.t.shop, id)
}

func (r outbox) ByProviderID(ctx context.Context, channel ports.Channel, providerID string) (ports.OutboxMessage, error) {
	return r.one(ctx, "message by provider id", `SELECT `+OutboxCols+` FROM outbox_messages
		WHERE channel = ? AND provider_id = ? AND shop_id = ? ORDER BY created_at LIMIT 1`, channel, providerID, r.t.shop)
}

func (r outbox) List(ctx context.Context, q ports.OutboxQuery) ([]ports.OutboxMessage, error) {
	if q.State != "" {
		if err := ports.ValidateMessageState(q.State); err != nil {
			return nil, err
		}
	}
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	query, args := `SELECT `+OutboxCols+` FROM outbox_messages WHERE shop_id = ?`, []any{r.t.shop}
	if q.State != "" {
		query += ` AND state = ?`
		args = append(args, string(q.State))
	}
	if !q.Contact.IsZero() {
		query += ` AND contact_id = ?`
		args = append(args, q.Contact)
	}
	var rows []OutboxRow
	if err := r.t.sel(ctx, &rows, query+` ORDER BY created_at, id LIMIT ?`, append(args, limit)...); err != nil {
		return nil, r.t.wrap("list messages", err)
	}
	return messagesOf(r.t.d, rows)
}

// running is the fence of the methods that end an attempt: the message is
// sending the attempt. Its parameters are the shop, the message's ID and
// the attempt's number, in that order (see fence).
const running = `shop_id = ? AND id = ? AND state = 'sending' AND attempts = ?`

// fence is the arguments of running.
func (r outbox) fence(id ports.MessageID, attempt int) []any { return []any{r.t.shop, id, attempt} }

func (r outbox) Dispatch(ctx context.Context, id ports.MessageID, attempt int) error {
	n, err := r.t.exec(ctx, `UPDATE outbox_messages SET dispatched = ?, updated_at = ? WHERE `+running,
		append([]any{attempt, r.t.now()}, r.fence(id, attempt)...)...)
	if err != nil {
		return r.t.wrap("dispatch message", err)
	}
	if n == 0 {
		return r.t.notFound(fmt.Sprintf("dispatch message: no sending attempt %d", attempt))
	}
	return nil
}

func (r outbox) MarkSent(ctx context.Context, id ports.MessageID, attempt int, providerID string) (ports.OutboxMessage, error) {
	now := r.t.now()
	return r.one(ctx, "mark message sent", `UPDATE outbox_messages SET state = 'sent', locked_until = NULL, provider_id = ?,
			sent_at = ?, last_error = '', updated_at = ?
		WHERE `+running+` RETURNING `+OutboxCols, append([]any{orNull(providerID), now, now}, r.fence(id, attempt)...)...)
}

func (r outbox) Fail(ctx context.Context, id ports.MessageID, attempt int, reason string, retryAt time.Time, dead bool) (ports.OutboxMessage, error) {
	now := r.t.now()
	retry := now
	if !retryAt.IsZero() {
		retry = retryAt
	}
	return r.one(ctx, "fail message", `UPDATE outbox_messages SET
			state = CASE WHEN ? OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN ? OR attempts >= max_attempts THEN run_at ELSE ? END,
			dispatched = 0, locked_until = NULL, last_error = ?, updated_at = ?
		WHERE `+running+` RETURNING `+OutboxCols, append([]any{dead, dead, retry, FailureReason(reason), now}, r.fence(id, attempt)...)...)
}

func (r outbox) Settle(ctx context.Context, id ports.MessageID, attempt int, state ports.MessageState, reason string) (ports.OutboxMessage, error) {
	if state != ports.MessageCancelled && state != ports.MessageUnknown {
		return ports.OutboxMessage{}, ports.Invalid("state", "must be cancelled or unknown")
	}
	return r.one(ctx, "settle message", `UPDATE outbox_messages SET state = ?, locked_until = NULL, last_error = ?, updated_at = ?
		WHERE `+running+` RETURNING `+OutboxCols, append([]any{string(state), FailureReason(reason), r.t.now()}, r.fence(id, attempt)...)...)
}

func (r outbox) Defer(ctx context.Context, id ports.MessageID, attempt int, runAt time.Time, heldFor string) (ports.OutboxMessage, error) {
	if len(heldFor) > 100 {
		return ports.OutboxMessage{}, ports.Invalid("held_for", "must be at most 100 bytes")
	}
	return r.one(ctx, "defer message", `UPDATE outbox_messages SET state = 'queued', attempts = attempts - 1, run_at = ?,
			held_for = ?, locked_until = NULL, updated_at = ?
		WHERE `+running+` RETURNING `+OutboxCols, append([]any{runAt, heldFor, r.t.now()}, r.fence(id, attempt)...)...)
}

func (r outbox) Retry(ctx context.Context, id ports.MessageID, runAt time.Time) (ports.OutboxMessage, error) {
	now := r.t.now()
	at := now
	if !runAt.IsZero() {
		at = runAt
	}
	return r.one(ctx, "retry message", `UPDATE outbox_messages SET state = 'queued', attempts = 0, dispatched = 0, run_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state IN ('dead', 'unknown') RETURNING `+OutboxCols, at, now, r.t.shop, id)
}

func (r outbox) Cancel(ctx context.Context, id ports.MessageID, reason string) (ports.OutboxMessage, error) {
	return r.one(ctx, "cancel message", `UPDATE outbox_messages SET state = 'cancelled', last_error = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'queued' RETURNING `+OutboxCols, FailureReason(reason), r.t.now(), r.t.shop, id)
}

// ReportStatus stores the provider's status made storable (FailureReason):
// valid UTF-8 without NUL.
func (r outbox) ReportStatus(ctx context.Context, id ports.MessageID, status string, state ports.MessageState) (ports.OutboxMessage, error) {
	switch state {
	case ports.MessageSent, ports.MessageDelivered, ports.MessageFailed:
	default:
		return ports.OutboxMessage{}, ports.Invalid("state", "must be sent, delivered or failed")
	}
	if len(status) > 64 {
		return ports.OutboxMessage{}, ports.Invalid("status", "must be at most 64 bytes")
	}
	return r.one(ctx, "report message status", `UPDATE outbox_messages SET state = ?, provider_status = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state IN ('sent', 'delivered', 'failed') RETURNING `+OutboxCols,
		string(state), FailureReason(status), r.t.now(), r.t.shop, id)
}

// RecordEvent stores the provider and event ID made storable
// (FailureReason). A replay is ErrConflict.
func (r outbox) RecordEvent(ctx context.Context, provider, eventID string) error {
	if provider == "" || len(provider) > 255 || eventID == "" || len(eventID) > 255 {
		return ports.Invalid("event", "provider and event ID must be 1 to 255 bytes")
	}
	// ON CONFLICT DO NOTHING: a replay is answered without aborting the
	// transaction (on Postgres), so the caller may carry on (and commit)
	// after it.
	n, err := r.t.exec(ctx, `INSERT INTO messaging_events (shop_id, provider, event_id, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, provider, event_id) DO NOTHING`,
		r.t.shop, FailureReason(provider), FailureReason(eventID), r.t.now())
	if err != nil {
		return r.t.wrap("record event", err)
	}
	if n == 0 {
		return fmt.Errorf("%s: record event: %s %s seen before: %w", r.t.d.Name(), provider, eventID, ports.ErrConflict)
	}
	return nil
}

func (r outbox) DeleteFinished(ctx context.Context, before time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM outbox_messages WHERE shop_id = ?
		AND state IN ('sent', 'delivered', 'failed', 'cancelled') AND updated_at < ?`, r.t.shop, before)
	if err != nil {
		return 0, r.t.wrap("delete finished messages", err)
	}
	return int(n), nil
}

func (r outbox) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM messaging_events WHERE shop_id = ? AND received_at < ?`, r.t.shop, before)
	if err != nil {
		return 0, r.t.wrap("delete messaging events", err)
	}
	return int(n), nil
}
