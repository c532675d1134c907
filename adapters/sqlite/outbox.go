package sqlite

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

var _ ports.OutboxQueue = (*Store)(nil)

func (t *shopTx) Outbox() ports.OutboxRepo { return outbox{t} }

// outbox is the outbox of one shopTx. Every statement binds t.shop; none
// accepts a shop from the caller.
type outbox struct{ t *shopTx }

type outboxRow struct {
	ShopID         ports.ShopID    `db:"shop_id"`
	ID             ports.MessageID `db:"id"`
	Contact        ports.ContactID `db:"contact_id"`
	Channel        string          `db:"channel"`
	Category       string          `db:"category"`
	Recipient      string          `db:"recipient"`
	Payload        string          `db:"payload"`
	State          string          `db:"state"`
	Attempts       int             `db:"attempts"`
	MaxAttempts    int             `db:"max_attempts"`
	Dispatched     int             `db:"dispatched"`
	RunAt          int64           `db:"run_at"`
	LockedUntil    *int64          `db:"locked_until"`
	LastError      string          `db:"last_error"`
	HeldFor        string          `db:"held_for"`
	ProviderID     sql.NullString  `db:"provider_id"`
	ProviderStatus string          `db:"provider_status"`
	SentAt         *int64          `db:"sent_at"`
	CreatedAt      int64           `db:"created_at"`
	UpdatedAt      int64           `db:"updated_at"`
}

const outboxCols = `shop_id, id, contact_id, channel, category, recipient, payload, state, attempts, max_attempts, dispatched,
	run_at, locked_until, last_error, held_for, provider_id, provider_status, sent_at, created_at, updated_at`

// outboxPayload is a message's content as stored: one of the two is set.
type outboxPayload struct {
	SMS   *ports.SMS   `json:"sms,omitempty"`
	Email *ports.Email `json:"email,omitempty"`
}

func (r outboxRow) port() (ports.OutboxMessage, error) {
	m := ports.OutboxMessage{
		ID: r.ID, ShopID: r.ShopID, Contact: r.Contact, Channel: ports.Channel(r.Channel), Category: ports.MessageCategory(r.Category),
		State: ports.MessageState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, Dispatched: r.Dispatched,
		RunAt: fromMicros(r.RunAt), LastError: r.LastError, HeldFor: r.HeldFor, ProviderID: r.ProviderID.String,
		ProviderStatus: r.ProviderStatus, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.LockedUntil != nil {
		m.LockedUntil = fromMicros(*r.LockedUntil)
	}
	if r.SentAt != nil {
		m.SentAt = fromMicros(*r.SentAt)
	}
	var p outboxPayload
	if err := json.Unmarshal([]byte(r.Payload), &p); err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("sqlite: outbox message %s: payload: %v", r.ID, err)
	}
	if p.SMS != nil {
		m.SMS = *p.SMS
	}
	if p.Email != nil {
		m.Email = *p.Email
	}
	return m, nil
}

func messagesOf(rows []outboxRow) ([]ports.OutboxMessage, error) {
	out := make([]ports.OutboxMessage, len(rows))
	for i, row := range rows {
		m, err := row.port()
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

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
		return ports.OutboxMessage{}, fmt.Errorf("sqlite: enqueue message: %w", ports.Invalid("payload", err.Error()))
	}
	now := r.t.store.now()
	runAt := now
	if !m.RunAt.IsZero() {
		runAt = micros(m.RunAt)
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	var row outboxRow
	err = r.t.q.GetContext(ctx, &row, `INSERT INTO outbox_messages (shop_id, id, contact_id, channel, category, recipient, payload,
			state, attempts, max_attempts, run_at, held_for, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?) RETURNING `+outboxCols,
		r.t.shop, m.ID, m.Contact, m.Channel, m.Category, m.To(), string(payload), m.MaxAttempts, runAt, m.HeldFor, now, now)
	if err != nil {
		return ports.OutboxMessage{}, wrap("enqueue message", err)
	}
	return row.port()
}

func (r outbox) one(ctx context.Context, op, query string, args ...any) (ports.OutboxMessage, error) {
	var rows []outboxRow
	if err := r.t.q.SelectContext(ctx, &rows, query, args...); err != nil {
		return ports.OutboxMessage{}, wrap(op, err)
	}
	if len(rows) == 0 {
		return ports.OutboxMessage{}, fmt.Errorf("sqlite: %s: %w", op, ports.ErrNotFound)
	}
	return rows[0].port()
}

func (r outbox) Get(ctx context.Context, id ports.MessageID) (ports.OutboxMessage, error) {
	return r.one(ctx, "get message", `SELECT `+outboxCols+` FROM outbox_messages WHERE shop_id = ? AND id = ?`, r.t.shop, id)
}

func (r outbox) ByProviderID(ctx context.Context, channel ports.Channel, providerID string) (ports.OutboxMessage, error) {
	return r.one(ctx, "message by provider id", `SELECT `+outboxCols+` FROM outbox_messages
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
	var contact any
	if !q.Contact.IsZero() {
		contact = q.Contact
	}
	var rows []outboxRow
	err = r.t.q.SelectContext(ctx, &rows, `SELECT `+outboxCols+` FROM outbox_messages
		WHERE shop_id = ?1 AND (?2 = '' OR state = ?2) AND (?3 IS NULL OR contact_id = ?3)
		ORDER BY created_at, id LIMIT ?4`, r.t.shop, string(q.State), contact, limit)
	if err != nil {
		return nil, wrap("list messages", err)
	}
	return messagesOf(rows)
}

// running is the fence of the methods that end an attempt: the message is
// sending attempt number ?2 of shop ?3, id ?4 (positional parameters
// shared by the statements below).
const running = `shop_id = ?3 AND id = ?4 AND state = 'sending' AND attempts = ?2`

func (r outbox) Dispatch(ctx context.Context, id ports.MessageID, attempt int) error {
	res, err := r.t.q.ExecContext(ctx, `UPDATE outbox_messages SET dispatched = ?2, updated_at = ?1 WHERE `+running,
		r.t.store.now(), attempt, r.t.shop, id)
	n, err := affected("dispatch message", res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: dispatch message: no sending attempt %d: %w", attempt, ports.ErrNotFound)
	}
	return nil
}

func (r outbox) MarkSent(ctx context.Context, id ports.MessageID, attempt int, providerID string) (ports.OutboxMessage, error) {
	return r.one(ctx, "mark message sent", `UPDATE outbox_messages SET state = 'sent', locked_until = NULL, provider_id = ?5,
			sent_at = ?1, last_error = '', updated_at = ?1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, orNull(providerID))
}

func (r outbox) Fail(ctx context.Context, id ports.MessageID, attempt int, reason string, retryAt time.Time, dead bool) (ports.OutboxMessage, error) {
	now := r.t.store.now()
	retry := now
	if !retryAt.IsZero() {
		retry = micros(retryAt)
	}
	return r.one(ctx, "fail message", `UPDATE outbox_messages SET
			state = CASE WHEN ?5 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN ?5 OR attempts >= max_attempts THEN run_at ELSE ?6 END,
			dispatched = 0, locked_until = NULL, last_error = ?7, updated_at = ?1
		WHERE `+running+` RETURNING `+outboxCols, now, attempt, r.t.shop, id, dead, retry, jobReason(reason))
}

func (r outbox) Settle(ctx context.Context, id ports.MessageID, attempt int, state ports.MessageState, reason string) (ports.OutboxMessage, error) {
	if state != ports.MessageCancelled && state != ports.MessageUnknown {
		return ports.OutboxMessage{}, ports.Invalid("state", "must be cancelled or unknown")
	}
	return r.one(ctx, "settle message", `UPDATE outbox_messages SET state = ?5, locked_until = NULL, last_error = ?6, updated_at = ?1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, string(state), jobReason(reason))
}

func (r outbox) Defer(ctx context.Context, id ports.MessageID, attempt int, runAt time.Time, heldFor string) (ports.OutboxMessage, error) {
	if len(heldFor) > 100 {
		return ports.OutboxMessage{}, ports.Invalid("held_for", "must be at most 100 bytes")
	}
	return r.one(ctx, "defer message", `UPDATE outbox_messages SET state = 'queued', attempts = attempts - 1, run_at = ?5,
			held_for = ?6, locked_until = NULL, updated_at = ?1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, micros(runAt), heldFor)
}

func (r outbox) Retry(ctx context.Context, id ports.MessageID, runAt time.Time) (ports.OutboxMessage, error) {
	now := r.t.store.now()
	at := now
	if !runAt.IsZero() {
		at = micros(runAt)
	}
	return r.one(ctx, "retry message", `UPDATE outbox_messages SET state = 'queued', attempts = 0, dispatched = 0, run_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state IN ('dead', 'unknown') RETURNING `+outboxCols, at, now, r.t.shop, id)
}

func (r outbox) Cancel(ctx context.Context, id ports.MessageID, reason string) (ports.OutboxMessage, error) {
	return r.one(ctx, "cancel message", `UPDATE outbox_messages SET state = 'cancelled', last_error = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'queued' RETURNING `+outboxCols, jobReason(reason), r.t.store.now(), r.t.shop, id)
}

func (r outbox) ReportStatus(ctx context.Context, id ports.MessageID, status string, state ports.MessageState) (ports.OutboxMessage, error) {
	if err := checkReport(status, state); err != nil {
		return ports.OutboxMessage{}, err
	}
	return r.one(ctx, "report message status", `UPDATE outbox_messages SET state = ?, provider_status = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state IN ('sent', 'delivered', 'failed') RETURNING `+outboxCols,
		string(state), status, r.t.store.now(), r.t.shop, id)
}

// checkReport validates a provider status report.
func checkReport(status string, state ports.MessageState) error {
	switch state {
	case ports.MessageSent, ports.MessageDelivered, ports.MessageFailed:
	default:
		return ports.Invalid("state", "must be sent, delivered or failed")
	}
	if len(status) > 64 {
		return ports.Invalid("status", "must be at most 64 bytes")
	}
	return nil
}

func (r outbox) RecordEvent(ctx context.Context, provider, eventID string) error {
	if provider == "" || len(provider) > 255 || eventID == "" || len(eventID) > 255 {
		return ports.Invalid("event", "provider and event ID must be 1 to 255 bytes")
	}
	res, err := r.t.q.ExecContext(ctx, `INSERT INTO messaging_events (shop_id, provider, event_id, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, provider, event_id) DO NOTHING`, r.t.shop, provider, eventID, r.t.store.now())
	n, err := affected("record event", res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: record event: %s %s seen before: %w", provider, eventID, ports.ErrConflict)
	}
	return nil
}

// claimOutboxSQL marks the due messages sending: the oldest limit (?2) of
// the due queued messages and the sending ones whose lease ran out with
// attempts left.
const claimOutboxSQL = `UPDATE outbox_messages SET state = 'sending', attempts = attempts + 1, locked_until = ?3, updated_at = ?4
	WHERE (shop_id, id) IN (
		SELECT shop_id, id FROM (
			SELECT * FROM (SELECT shop_id, id, run_at FROM outbox_messages
				WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT shop_id, id, run_at FROM outbox_messages
				WHERE state = 'sending' AND locked_until <= ?1 AND attempts < max_attempts ORDER BY run_at, id LIMIT ?2)
		) ORDER BY run_at, id LIMIT ?2)
	RETURNING ` + outboxCols

// ClaimMessages implements ports.OutboxQueue: with the directory lookups,
// the only statements of the messaging tables that read across shops. It
// is a write transaction on the single writer connection (BEGIN
// IMMEDIATE), so concurrent claimers run one after another.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	var rows []outboxRow
	err := s.claim(ctx, "messages", now, limit, lease, `UPDATE outbox_messages SET
			state = CASE WHEN dispatched = attempts THEN 'unknown' ELSE 'dead' END,
			last_error = CASE WHEN dispatched = attempts THEN 'lease expired during the provider call' ELSE 'lease expired' END,
			locked_until = NULL, updated_at = ?
		WHERE state = 'sending' AND locked_until <= ? AND attempts >= max_attempts`, claimOutboxSQL, &rows)
	if err != nil {
		return nil, err
	}
	out, err := messagesOf(rows)
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

func (r outbox) DeleteFinished(ctx context.Context, before time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM outbox_messages WHERE shop_id = ?
		AND state IN ('sent', 'delivered', 'failed', 'cancelled') AND updated_at < ?`, r.t.shop, micros(before))
	return affected("delete finished messages", res, err)
}

func (r outbox) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM messaging_events WHERE shop_id = ? AND received_at < ?`, r.t.shop, micros(before))
	return affected("delete messaging events", res, err)
}
