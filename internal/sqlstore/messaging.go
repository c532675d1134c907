package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/stockadehq/stockade/ports"
)

// Consent implements ports.ShopTx.
func (t *Shop) Consent() ports.ConsentRepo { return consent{t} }

// consent is the consent registry of one Shop: contacts and their consent
// records. Every statement binds t.shop; none accepts a shop from the
// caller.
type consent struct{ t *Shop }

var _ ports.ConsentRepo = consent{}

type contactRow struct {
	ID        ports.ContactID `db:"id"`
	Phone     sql.NullString  `db:"phone"`
	Email     sql.NullString  `db:"email"`
	TimeZone  string          `db:"time_zone"`
	CreatedAt Time            `db:"created_at"`
	UpdatedAt Time            `db:"updated_at"`
}

const contactCols = `id, phone, email, time_zone, created_at, updated_at`

func (r contactRow) port() ports.Contact {
	return ports.Contact{ID: r.ID, Phone: r.Phone.String, Email: r.Email.String, TimeZone: r.TimeZone,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

// CreateContact stores an empty phone or e-mail as NULL, so that the
// unique keys on them ignore it.
func (r consent) CreateContact(ctx context.Context, c ports.Contact) (ports.Contact, error) {
	if err := c.Validate(); err != nil {
		return ports.Contact{}, err
	}
	now := r.t.now()
	var row contactRow
	err := r.t.get(ctx, &row, `INSERT INTO messaging_contacts (shop_id, `+contactCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+contactCols,
		r.t.shop, c.ID, orNull(c.Phone), orNull(c.Email), c.TimeZone, now, now)
	if err != nil {
		return ports.Contact{}, r.t.wrap("create contact", err)
	}
	return row.port(), nil
}

func (r consent) UpdateContact(ctx context.Context, c ports.Contact) (ports.Contact, error) {
	if err := c.Validate(); err != nil {
		return ports.Contact{}, err
	}
	var row contactRow
	err := r.t.get(ctx, &row, `UPDATE messaging_contacts SET phone = ?, email = ?, time_zone = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? RETURNING `+contactCols,
		orNull(c.Phone), orNull(c.Email), c.TimeZone, r.t.now(), r.t.shop, c.ID)
	if err != nil {
		return ports.Contact{}, r.t.wrap("update contact", err)
	}
	return row.port(), nil
}

func (r consent) GetContact(ctx context.Context, id ports.ContactID) (ports.Contact, error) {
	return r.contactWhere(ctx, "get contact", `id = ?`, id)
}

func (r consent) ContactByPhone(ctx context.Context, phone string) (ports.Contact, error) {
	if phone == "" {
		return ports.Contact{}, r.t.notFound("contact by phone")
	}
	return r.contactWhere(ctx, "contact by phone", `phone = ?`, phone)
}

func (r consent) ContactByEmail(ctx context.Context, email string) (ports.Contact, error) {
	if email == "" {
		return ports.Contact{}, r.t.notFound("contact by email")
	}
	return r.contactWhere(ctx, "contact by email", `email = ?`, email)
}

// contactWhere reads the shop's one contact matching cond, a condition
// with one parameter, arg.
func (r consent) contactWhere(ctx context.Context, op, cond string, arg any) (ports.Contact, error) {
	var row contactRow
	err := r.t.get(ctx, &row, `SELECT `+contactCols+` FROM messaging_contacts WHERE shop_id = ? AND `+cond, r.t.shop, arg)
	if err != nil {
		return ports.Contact{}, r.t.wrap(op, err)
	}
	return row.port(), nil
}

func (r consent) ListContacts(ctx context.Context, after ports.ContactID, limit int) ([]ports.Contact, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	var rows []contactRow
	err = r.t.sel(ctx, &rows, `SELECT `+contactCols+` FROM messaging_contacts
		WHERE shop_id = ? AND id > ? ORDER BY id LIMIT ?`, r.t.shop, after, limit)
	if err != nil {
		return nil, r.t.wrap("list contacts", err)
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
	ChangedAt Time            `db:"changed_at"`
}

const consentCols = `contact_id, topic, opted_out, source, changed_at`

func (r consentRow) port() ports.Consent {
	return ports.Consent{Contact: r.Contact, Topic: ports.ConsentTopic(r.Topic), OptedOut: r.OptedOut,
		Source: ports.ConsentSource(r.Source), ChangedAt: r.ChangedAt.Time}
}

// Consent reads the contact and its records in one statement: a contact
// without records is one row of NULLs, an unknown contact no row.
func (r consent) Consent(ctx context.Context, id ports.ContactID) ([]ports.Consent, error) {
	var rows []struct {
		Topic     sql.NullString `db:"topic"`
		OptedOut  sql.NullBool   `db:"opted_out"`
		Source    sql.NullString `db:"source"`
		ChangedAt Time           `db:"changed_at"`
	}
	err := r.t.sel(ctx, &rows, `SELECT k.topic, k.opted_out, k.source, k.changed_at
		FROM messaging_contacts c LEFT JOIN messaging_consent k ON k.shop_id = c.shop_id AND k.contact_id = c.id
		WHERE c.shop_id = ? AND c.id = ? ORDER BY k.topic`, r.t.shop, id)
	if err != nil {
		return nil, r.t.wrap("consent", err)
	}
	if len(rows) == 0 {
		return nil, r.t.notFound("consent: contact")
	}
	out := []ports.Consent{}
	for _, row := range rows {
		if row.Topic.Valid {
			out = append(out, consentRow{Contact: id, Topic: row.Topic.String, OptedOut: row.OptedOut.Bool, Source: row.Source.String, ChangedAt: row.ChangedAt}.port())
		}
	}
	return out, nil
}

// SetConsent reads the previous record, locking it where the database has
// row locks (a concurrent SetConsent of the same topic waits, then reads
// this one's record), and upserts the new one.
func (r consent) SetConsent(ctx context.Context, c ports.Consent) (ports.Consent, ports.Consent, error) {
	if err := c.Validate(); err != nil {
		return ports.Consent{}, ports.Consent{}, err
	}
	var prev []consentRow
	err := r.t.sel(ctx, &prev, `SELECT `+consentCols+` FROM messaging_consent
		WHERE shop_id = ? AND contact_id = ? AND topic = ?`+r.t.lock("FOR UPDATE"), r.t.shop, c.Contact, c.Topic)
	if err != nil {
		return ports.Consent{}, ports.Consent{}, r.t.wrap("set consent", err)
	}
	var row consentRow
	err = r.t.get(ctx, &row, `INSERT INTO messaging_consent (shop_id, `+consentCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
		RETURNING `+consentCols,
		r.t.shop, c.Contact, c.Topic, c.OptedOut, c.Source, r.t.now())
	if err != nil {
		return ports.Consent{}, ports.Consent{}, r.t.wrap("set consent", err)
	}
	var before ports.Consent
	if len(prev) == 1 {
		before = prev[0].port()
	}
	return before, row.port(), nil
}

// MergeContacts runs as a few statements inside the unit of work's
// transaction, after reading both contacts (and locking them, where the
// database has row locks; SQLite's one writer already serialises the
// unit of work). Either contact unknown is ErrNotFound.
func (r consent) MergeContacts(ctx context.Context, keepID, dropID ports.ContactID) (ports.Contact, error) {
	if keepID == dropID {
		return ports.Contact{}, ports.Invalid("contact", "cannot merge a contact into itself")
	}
	var locked []contactRow
	err := r.t.sel(ctx, &locked, `SELECT `+contactCols+` FROM messaging_contacts
		WHERE shop_id = ? AND id IN (?, ?) ORDER BY id`+r.t.lock("FOR UPDATE"), r.t.shop, keepID, dropID)
	if err != nil {
		return ports.Contact{}, r.t.wrap("merge contacts", err)
	}
	if len(locked) != 2 {
		return ports.Contact{}, r.t.notFound("merge contacts")
	}
	keep, drop := locked[0].port(), locked[1].port()
	if keep.ID != keepID {
		keep, drop = drop, keep
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
		// is later); otherwise drop's replaces it. (The SELECT's WHERE
		// also keeps SQLite from reading ON CONFLICT as a join's ON.)
		{"merge contacts: consent", `INSERT INTO messaging_consent AS k (shop_id, contact_id, topic, opted_out, source, changed_at)
			SELECT shop_id, ?, topic, opted_out, source, changed_at FROM messaging_consent WHERE shop_id = ? AND contact_id = ?
			ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
			WHERE (excluded.opted_out AND NOT k.opted_out)
			   OR (excluded.opted_out = k.opted_out AND excluded.changed_at > k.changed_at)`,
			[]any{keepID, r.t.shop, dropID}},
		{"merge contacts: drop consent", `DELETE FROM messaging_consent WHERE shop_id = ? AND contact_id = ?`, []any{r.t.shop, dropID}},
		{"merge contacts: drop contact", `DELETE FROM messaging_contacts WHERE shop_id = ? AND id = ?`, []any{r.t.shop, dropID}},
	}
	for _, s := range steps {
		if _, err := r.t.exec(ctx, s.sql, s.args...); err != nil {
			return ports.Contact{}, r.t.wrap(s.op, err)
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
