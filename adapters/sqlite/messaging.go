package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Consent() ports.ConsentRepo { return consent{t} }

// consent is the consent registry of one shopTx: contacts and their
// consent records. Every statement binds t.shop; none accepts a shop from
// the caller.
type consent struct{ t *shopTx }

type contactRow struct {
	ID        ports.ContactID `db:"id"`
	Phone     sql.NullString  `db:"phone"`
	Email     sql.NullString  `db:"email"`
	TimeZone  string          `db:"time_zone"`
	CreatedAt int64           `db:"created_at"`
	UpdatedAt int64           `db:"updated_at"`
}

const contactCols = `id, phone, email, time_zone, created_at, updated_at`

func (r contactRow) port() ports.Contact {
	return ports.Contact{ID: r.ID, Phone: r.Phone.String, Email: r.Email.String, TimeZone: r.TimeZone,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt)}
}

// orNull stores the empty string as NULL (so that unique keys ignore it).
func orNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (r consent) CreateContact(ctx context.Context, c ports.Contact) (ports.Contact, error) {
	if err := c.Validate(); err != nil {
		return ports.Contact{}, err
	}
	now := r.t.store.now()
	var row contactRow
	err := r.t.q.GetContext(ctx, &row, `INSERT INTO messaging_contacts (shop_id, `+contactCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+contactCols,
		r.t.shop, c.ID, orNull(c.Phone), orNull(c.Email), c.TimeZone, now, now)
	if err != nil {
		return ports.Contact{}, wrap("create contact", err)
	}
	return row.port(), nil
}

func (r consent) UpdateContact(ctx context.Context, c ports.Contact) (ports.Contact, error) {
	if err := c.Validate(); err != nil {
		return ports.Contact{}, err
	}
	var row contactRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE messaging_contacts SET phone = ?, email = ?, time_zone = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? RETURNING `+contactCols,
		orNull(c.Phone), orNull(c.Email), c.TimeZone, r.t.store.now(), r.t.shop, c.ID)
	if err != nil {
		return ports.Contact{}, wrap("update contact", err)
	}
	return row.port(), nil
}

func (r consent) GetContact(ctx context.Context, id ports.ContactID) (ports.Contact, error) {
	return r.contactWhere(ctx, "get contact", `id = ?`, id)
}

func (r consent) ContactByPhone(ctx context.Context, phone string) (ports.Contact, error) {
	if phone == "" {
		return ports.Contact{}, fmt.Errorf("sqlite: contact by phone: %w", ports.ErrNotFound)
	}
	return r.contactWhere(ctx, "contact by phone", `phone = ?`, phone)
}

func (r consent) ContactByEmail(ctx context.Context, email string) (ports.Contact, error) {
	if email == "" {
		return ports.Contact{}, fmt.Errorf("sqlite: contact by email: %w", ports.ErrNotFound)
	}
	return r.contactWhere(ctx, "contact by email", `email = ?`, email)
}

func (r consent) contactWhere(ctx context.Context, op, cond string, arg any) (ports.Contact, error) {
	var row contactRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+contactCols+` FROM messaging_contacts WHERE shop_id = ? AND `+cond, r.t.shop, arg)
	if err != nil {
		return ports.Contact{}, wrap(op, err)
	}
	return row.port(), nil
}

func (r consent) ListContacts(ctx context.Context, after ports.ContactID, limit int) ([]ports.Contact, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	var rows []contactRow
	err = r.t.q.SelectContext(ctx, &rows, `SELECT `+contactCols+` FROM messaging_contacts
		WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`, r.t.shop, after, limit)
	if err != nil {
		return nil, wrap("list contacts", err)
	}
	out := make([]ports.Contact, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// pageLimit applies the list contract: 0 means 100, capped at 1000.
func pageLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, ports.Invalid("limit", "must not be negative")
	case limit == 0:
		return 100, nil
	}
	return min(limit, 1000), nil
}

type consentRow struct {
	Contact   ports.ContactID `db:"contact_id"`
	Topic     string          `db:"topic"`
	OptedOut  bool            `db:"opted_out"`
	Source    string          `db:"source"`
	ChangedAt int64           `db:"changed_at"`
}

const consentCols = `contact_id, topic, opted_out, source, changed_at`

func (r consentRow) port() ports.Consent {
	return ports.Consent{Contact: r.Contact, Topic: ports.ConsentTopic(r.Topic), OptedOut: r.OptedOut,
		Source: ports.ConsentSource(r.Source), ChangedAt: fromMicros(r.ChangedAt)}
}

// Consent reads the contact and its records in one statement: a contact
// without records is one row of NULLs, an unknown contact no row.
func (r consent) Consent(ctx context.Context, id ports.ContactID) ([]ports.Consent, error) {
	var rows []struct {
		Topic     *string `db:"topic"`
		OptedOut  *bool   `db:"opted_out"`
		Source    *string `db:"source"`
		ChangedAt *int64  `db:"changed_at"`
	}
	err := r.t.q.SelectContext(ctx, &rows, `SELECT k.topic, k.opted_out, k.source, k.changed_at
		FROM messaging_contacts c LEFT JOIN messaging_consent k ON k.shop_id = c.shop_id AND k.contact_id = c.id
		WHERE c.shop_id = ? AND c.id = ? ORDER BY k.topic`, r.t.shop, id)
	if err != nil {
		return nil, wrap("consent", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("sqlite: consent: contact: %w", ports.ErrNotFound)
	}
	out := []ports.Consent{}
	for _, row := range rows {
		if row.Topic != nil {
			out = append(out, consentRow{Contact: id, Topic: *row.Topic, OptedOut: *row.OptedOut, Source: *row.Source, ChangedAt: *row.ChangedAt}.port())
		}
	}
	return out, nil
}

func (r consent) SetConsent(ctx context.Context, c ports.Consent) (ports.Consent, ports.Consent, error) {
	if err := c.Validate(); err != nil {
		return ports.Consent{}, ports.Consent{}, err
	}
	var prev []consentRow
	err := r.t.q.SelectContext(ctx, &prev, `SELECT `+consentCols+` FROM messaging_consent
		WHERE shop_id = ? AND contact_id = ? AND topic = ?`, r.t.shop, c.Contact, c.Topic)
	if err != nil {
		return ports.Consent{}, ports.Consent{}, wrap("set consent", err)
	}
	var row consentRow
	err = r.t.q.GetContext(ctx, &row, `INSERT INTO messaging_consent (shop_id, `+consentCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
		RETURNING `+consentCols,
		r.t.shop, c.Contact, c.Topic, c.OptedOut, c.Source, r.t.store.now())
	if err != nil {
		return ports.Consent{}, ports.Consent{}, wrap("set consent", err)
	}
	var before ports.Consent
	if len(prev) == 1 {
		before = prev[0].port()
	}
	return before, row.port(), nil
}

// MergeContacts runs as a few statements on the unit of work's
// transaction: the single writer makes them atomic with the rest of it.
func (r consent) MergeContacts(ctx context.Context, keepID, dropID ports.ContactID) (ports.Contact, error) {
	if keepID == dropID {
		return ports.Contact{}, ports.Invalid("contact", "cannot merge a contact into itself")
	}
	keep, err := r.GetContact(ctx, keepID)
	if err != nil {
		return ports.Contact{}, err
	}
	drop, err := r.GetContact(ctx, dropID)
	if err != nil {
		return ports.Contact{}, err
	}
	merged, err := mergedContact(keep, drop)
	if err != nil {
		return ports.Contact{}, err
	}
	steps := []struct {
		op, sql string
		args    []any
	}{
		{"merge contacts: move messages", `UPDATE outbox_messages SET contact_id = ? WHERE shop_id = ? AND contact_id = ?`,
			[]any{keepID, r.t.shop, dropID}},
		// For each topic drop has: keep's record stays when it is an
		// opt-out that drop's does not beat (drop not opted out, or keep's
		// is later); otherwise drop's replaces it.
		{"merge contacts: consent", `INSERT INTO messaging_consent (shop_id, contact_id, topic, opted_out, source, changed_at)
			SELECT shop_id, ?, topic, opted_out, source, changed_at FROM messaging_consent d WHERE shop_id = ? AND contact_id = ?
			ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
			WHERE (excluded.opted_out AND NOT messaging_consent.opted_out)
			   OR (excluded.opted_out = messaging_consent.opted_out AND excluded.changed_at > messaging_consent.changed_at)`,
			[]any{keepID, r.t.shop, dropID}},
		{"merge contacts: drop consent", `DELETE FROM messaging_consent WHERE shop_id = ? AND contact_id = ?`, []any{r.t.shop, dropID}},
		{"merge contacts: drop contact", `DELETE FROM messaging_contacts WHERE shop_id = ? AND id = ?`, []any{r.t.shop, dropID}},
	}
	for _, s := range steps {
		if _, err := r.t.q.ExecContext(ctx, s.sql, s.args...); err != nil {
			return ports.Contact{}, wrap(s.op, err)
		}
	}
	return r.UpdateContact(ctx, merged)
}

// mergedContact is keep with drop's phone, e-mail and zone where keep has
// none; ErrInvalid when both hold different values of the same channel.
func mergedContact(keep, drop ports.Contact) (ports.Contact, error) {
	pick := func(field, a, b string) (string, error) {
		switch {
		case a == "":
			return b, nil
		case b == "" || a == b:
			return a, nil
		}
		return "", ports.Invalid(field, "both contacts hold a different "+field)
	}
	var err1, err2 error
	keep.Phone, err1 = pick("phone", keep.Phone, drop.Phone)
	keep.Email, err2 = pick("email", keep.Email, drop.Email)
	if err := errors.Join(err1, err2); err != nil {
		return ports.Contact{}, err
	}
	if keep.TimeZone == "" {
		keep.TimeZone = drop.TimeZone
	}
	return keep, nil
}
