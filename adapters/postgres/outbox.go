package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.OutboxQueue = (*Store)(nil)

func (t *shopTx) Outbox() ports.OutboxRepo { return outbox{t} }

// outbox is the outbox of one shopTx. Statements bind t.shop, and
// row-level security holds them to it as well.
type outbox struct{ t *shopTx }

type outboxRow struct {
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
	RunAt          time.Time       `db:"run_at"`
	LockedUntil    sql.NullTime    `db:"locked_until"`
	LastError      string          `db:"last_error"`
	HeldFor        string          `db:"held_for"`
	ProviderID     sql.NullString  `db:"provider_id"`
	ProviderStatus string          `db:"provider_status"`
	SentAt         sql.NullTime    `db:"sent_at"`
	CreatedAt      time.Time       `db:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at"`
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
		RunAt: r.RunAt.UTC(), LastError: r.LastError, HeldFor: r.HeldFor, ProviderID: r.ProviderID.String,
		ProviderStatus: r.ProviderStatus, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.LockedUntil.Valid {
		m.LockedUntil = r.LockedUntil.Time.UTC()
	}
	if r.SentAt.Valid {
		m.SentAt = r.SentAt.Time.UTC()
	}
	var p outboxPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return ports.OutboxMessage{}, fmt.Errorf("postgres: outbox message %s: payload: %v", r.ID, err)
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

// Enqueue inserts the message as queued; its content is stored as jsonb.
// PostgreSQL's text refuses NUL, so content holding one is ErrInvalid.
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
		return ports.OutboxMessage{}, fmt.Errorf("postgres: enqueue message: %w", ports.Invalid("payload", err.Error()))
	}
	now := r.t.store.now()
	runAt := now
	if !m.RunAt.IsZero() {
		runAt = ports.Timestamp(m.RunAt)
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	var row outboxRow
	err = sqlx.GetContext(ctx, r.t.q, &row, `INSERT INTO outbox_messages (shop_id, id, contact_id, channel, category, recipient, payload,
			state, attempts, max_attempts, run_at, held_for, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'queued', 0, $8, $9, $10, $11, $11) RETURNING `+outboxCols,
		r.t.shop, m.ID, m.Contact, m.Channel, m.Category, m.To(), string(payload), m.MaxAttempts, runAt, m.HeldFor, now)
	if err != nil {
		return ports.OutboxMessage{}, wrap("enqueue message", err)
	}
	return row.port()
}

func (r outbox) one(ctx context.Context, op, query string, args ...any) (ports.OutboxMessage, error) {
	var rows []outboxRow
	if err := sqlx.SelectContext(ctx, r.t.q, &rows, query, args...); err != nil {
		return ports.OutboxMessage{}, wrap(op, err)
	}
	if len(rows) == 0 {
		return ports.OutboxMessage{}, notFound(op)
	}
	return rows[0].port()
}

func (r outbox) Get(ctx context.Context, id ports.MessageID) (ports.OutboxMessage, error) {
	return r.one(ctx, "get message", `SELECT `+outboxCols+` FROM outbox_messages WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
}

func (r outbox) ByProviderID(ctx context.Context, channel ports.Channel, providerID string) (ports.OutboxMessage, error) {
	return r.one(ctx, "message by provider id", `SELECT `+outboxCols+` FROM outbox_messages
		WHERE channel = $1 AND provider_id = $2 AND shop_id = $3 ORDER BY created_at LIMIT 1`, channel, providerID, r.t.shop)
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
	err = sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+outboxCols+` FROM outbox_messages
		WHERE shop_id = $1 AND ($2 = '' OR state = $2) AND ($3::uuid IS NULL OR contact_id = $3::uuid)
		ORDER BY created_at, id LIMIT $4`, r.t.shop, string(q.State), contact, limit)
	if err != nil {
		return nil, wrap("list messages", err)
	}
	return messagesOf(rows)
}

// running is the fence of the methods that end an attempt: the message is
// sending attempt number $2 of shop $3, id $4 ($1 is the store's now).
const running = `shop_id = $3 AND id = $4 AND state = 'sending' AND attempts = $2`

func (r outbox) Dispatch(ctx context.Context, id ports.MessageID, attempt int) error {
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE outbox_messages SET dispatched = $2, updated_at = $1 WHERE `+running,
		r.t.store.now(), attempt, r.t.shop, id))
	if err != nil {
		return wrap("dispatch message", err)
	}
	if n == 0 {
		return notFound(fmt.Sprintf("dispatch message: no sending attempt %d", attempt))
	}
	return nil
}

func (r outbox) MarkSent(ctx context.Context, id ports.MessageID, attempt int, providerID string) (ports.OutboxMessage, error) {
	return r.one(ctx, "mark message sent", `UPDATE outbox_messages SET state = 'sent', locked_until = NULL, provider_id = $5,
			sent_at = $1, last_error = '', updated_at = $1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, orNull(providerID))
}

func (r outbox) Fail(ctx context.Context, id ports.MessageID, attempt int, reason string, retryAt time.Time, dead bool) (ports.OutboxMessage, error) {
	now := r.t.store.now()
	retry := now
	if !retryAt.IsZero() {
		retry = ports.Timestamp(retryAt)
	}
	return r.one(ctx, "fail message", `UPDATE outbox_messages SET
			state = CASE WHEN $5 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN $5 OR attempts >= max_attempts THEN run_at ELSE $6 END,
			dispatched = 0, locked_until = NULL, last_error = $7, updated_at = $1
		WHERE `+running+` RETURNING `+outboxCols, now, attempt, r.t.shop, id, dead, retry, jobReason(reason))
}

func (r outbox) Settle(ctx context.Context, id ports.MessageID, attempt int, state ports.MessageState, reason string) (ports.OutboxMessage, error) {
	if state != ports.MessageCancelled && state != ports.MessageUnknown {
		return ports.OutboxMessage{}, ports.Invalid("state", "must be cancelled or unknown")
	}
	return r.one(ctx, "settle message", `UPDATE outbox_messages SET state = $5, locked_until = NULL, last_error = $6, updated_at = $1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, string(state), jobReason(reason))
}

func (r outbox) Defer(ctx context.Context, id ports.MessageID, attempt int, runAt time.Time, heldFor string) (ports.OutboxMessage, error) {
	if len(heldFor) > 100 {
		return ports.OutboxMessage{}, ports.Invalid("held_for", "must be at most 100 bytes")
	}
	return r.one(ctx, "defer message", `UPDATE outbox_messages SET state = 'queued', attempts = attempts - 1, run_at = $5,
			held_for = $6, locked_until = NULL, updated_at = $1
		WHERE `+running+` RETURNING `+outboxCols, r.t.store.now(), attempt, r.t.shop, id, ports.Timestamp(runAt), heldFor)
}

func (r outbox) Retry(ctx context.Context, id ports.MessageID, runAt time.Time) (ports.OutboxMessage, error) {
	now := r.t.store.now()
	at := now
	if !runAt.IsZero() {
		at = ports.Timestamp(runAt)
	}
	return r.one(ctx, "retry message", `UPDATE outbox_messages SET state = 'queued', attempts = 0, dispatched = 0, run_at = $1, updated_at = $2
		WHERE shop_id = $3 AND id = $4 AND state IN ('dead', 'unknown') RETURNING `+outboxCols, at, now, r.t.shop, id)
}

func (r outbox) Cancel(ctx context.Context, id ports.MessageID, reason string) (ports.OutboxMessage, error) {
	return r.one(ctx, "cancel message", `UPDATE outbox_messages SET state = 'cancelled', last_error = $1, updated_at = $2
		WHERE shop_id = $3 AND id = $4 AND state = 'queued' RETURNING `+outboxCols, jobReason(reason), r.t.store.now(), r.t.shop, id)
}

func (r outbox) ReportStatus(ctx context.Context, id ports.MessageID, status string, state ports.MessageState) (ports.OutboxMessage, error) {
	switch state {
	case ports.MessageSent, ports.MessageDelivered, ports.MessageFailed:
	default:
		return ports.OutboxMessage{}, ports.Invalid("state", "must be sent, delivered or failed")
	}
	if len(status) > 64 {
		return ports.OutboxMessage{}, ports.Invalid("status", "must be at most 64 bytes")
	}
	return r.one(ctx, "report message status", `UPDATE outbox_messages SET state = $1, provider_status = $2, updated_at = $3
		WHERE shop_id = $4 AND id = $5 AND state IN ('sent', 'delivered', 'failed') RETURNING `+outboxCols,
		string(state), jobReason(status), r.t.store.now(), r.t.shop, id)
}

func (r outbox) RecordEvent(ctx context.Context, provider, eventID string) error {
	if provider == "" || len(provider) > 255 || eventID == "" || len(eventID) > 255 {
		return ports.Invalid("event", "provider and event ID must be 1 to 255 bytes")
	}
	// ON CONFLICT DO NOTHING: a replay is answered without aborting the
	// transaction, so the caller may carry on (and commit) after it.
	n, err := affected(r.t.q.ExecContext(ctx, `INSERT INTO messaging_events (shop_id, provider, event_id, received_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (shop_id, provider, event_id) DO NOTHING`,
		r.t.shop, jobReason(provider), jobReason(eventID), r.t.store.now()))
	if err != nil {
		return wrap("record event", err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: record event: %s %s seen before: %w", provider, eventID, ports.ErrConflict)
	}
	return nil
}

// ClaimMessages implements ports.OutboxQueue through stockade_claim_outbox,
// the SECURITY DEFINER function of migration 00011: the application role
// cannot read other shops' messages, but it may call the function, which
// hands out due messages of every shop with FOR UPDATE SKIP LOCKED. One
// statement, one round trip, outside any unit of work.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	if err := checkClaim(limit, lease); err != nil {
		return nil, err
	}
	var rows []outboxRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+outboxCols+` FROM stockade_claim_outbox($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, fmt.Sprintf("%d microseconds", lease.Microseconds()), s.now())
	if err != nil {
		return nil, wrap("claim messages", err)
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
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM outbox_messages WHERE shop_id = $1
		AND state IN ('sent', 'delivered', 'failed', 'cancelled') AND updated_at < $2`, r.t.shop, ports.Timestamp(before)))
	if err != nil {
		return 0, wrap("delete finished messages", err)
	}
	return int(n), nil
}

func (r outbox) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM messaging_events WHERE shop_id = $1 AND received_at < $2`, r.t.shop, ports.Timestamp(before)))
	if err != nil {
		return 0, wrap("delete messaging events", err)
	}
	return int(n), nil
}
