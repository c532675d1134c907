package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Consent() ports.ConsentRepo { return consent{t} }

// consent is the consent registry of one shopTx: contacts and their
// consent records. Statements bind t.shop, and row-level security holds
// them to it as well.
type consent struct{ t *shopTx }

type contactRow struct {
	ID        ports.ContactID `db:"id"`
	Phone     sql.NullString  `db:"phone"`
	Email     sql.NullString  `db:"email"`
	TimeZone  string          `db:"time_zone"`
	CreatedAt time.Time       `db:"created_at"`
	UpdatedAt time.Time       `db:"updated_at"`
}

const contactCols = `id, phone, email, time_zone, created_at, updated_at`

func (r contactRow) port() ports.Contact {
	return ports.Contact{ID: r.ID, Phone: r.Phone.String, Email: r.Email.String, TimeZone: r.TimeZone,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// orNull stores the empty string as NULL (so that unique keys ignore it).
func orNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (r consent) CreateContact(ctx context.Context, c ports.Contact) (ports.Contact, error) {
	if err := c.Validate(); err != nil {
		return ports.Contact{}, err
	}
	now := r.t.store.now()
	var row contactRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `INSERT INTO messaging_contacts (shop_id, `+contactCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+contactCols,
		r.t.shop, c.ID, orNull(c.Phone), orNull(c.Email), c.TimeZone, now)
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
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE messaging_contacts SET phone = $1, email = $2, time_zone = $3, updated_at = $4
		WHERE shop_id = $5 AND id = $6 RETURNING `+contactCols,
		orNull(c.Phone), orNull(c.Email), c.TimeZone, r.t.store.now(), r.t.shop, c.ID)
	if err != nil {
		return ports.Contact{}, wrap("update contact", err)
	}
	return row.port(), nil
}

func (r consent) GetContact(ctx context.Context, id ports.ContactID) (ports.Contact, error) {
	return r.contactWhere(ctx, "get contact", `id = $2`, id)
}

func (r consent) ContactByPhone(ctx context.Context, phone string) (ports.Contact, error) {
	if phone == "" {
		return ports.Contact{}, notFound("contact by phone")
	}
	return r.contactWhere(ctx, "contact by phone", `phone = $2`, phone)
}

func (r consent) ContactByEmail(ctx context.Context, email string) (ports.Contact, error) {
	if email == "" {
		return ports.Contact{}, notFound("contact by email")
	}
	return r.contactWhere(ctx, "contact by email", `email = $2`, email)
}

func (r consent) contactWhere(ctx context.Context, op, cond string, arg any) (ports.Contact, error) {
	var row contactRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+contactCols+` FROM messaging_contacts WHERE shop_id = $1 AND `+cond, r.t.shop, arg)
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
	err = sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+contactCols+` FROM messaging_contacts
		WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, r.t.shop, after, limit)
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
	ChangedAt time.Time       `db:"changed_at"`
}

const consentCols = `contact_id, topic, opted_out, source, changed_at`

func (r consentRow) port() ports.Consent {
	return ports.Consent{Contact: r.Contact, Topic: ports.ConsentTopic(r.Topic), OptedOut: r.OptedOut,
		Source: ports.ConsentSource(r.Source), ChangedAt: r.ChangedAt.UTC()}
}

// Consent reads the contact and its records in one statement: a contact
// without records is one row of NULLs, an unknown contact no row.
func (r consent) Consent(ctx context.Context, id ports.ContactID) ([]ports.Consent, error) {
	var rows []struct {
		Topic     sql.NullString `db:"topic"`
		OptedOut  sql.NullBool   `db:"opted_out"`
		Source    sql.NullString `db:"source"`
		ChangedAt sql.NullTime   `db:"changed_at"`
	}
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT k.topic, k.opted_out, k.source, k.changed_at
		FROM messaging_contacts c LEFT JOIN messaging_consent k ON k.shop_id = c.shop_id AND k.contact_id = c.id
		WHERE c.shop_id = $1 AND c.id = $2 ORDER BY k.topic`, r.t.shop, id)
	if err != nil {
		return nil, wrap("consent", err)
	}
	if len(rows) == 0 {
		return nil, notFound("consent: contact")
	}
	out := []ports.Consent{}
	for _, row := range rows {
		if row.Topic.Valid {
			out = append(out, consentRow{Contact: id, Topic: row.Topic.String, OptedOut: row.OptedOut.Bool, Source: row.Source.String, ChangedAt: row.ChangedAt.Time}.port())
		}
	}
	return out, nil
}

// SetConsent reads the previous record and writes the new one in one
// statement: the CTE sees the row as it was before the upsert.
func (r consent) SetConsent(ctx context.Context, c ports.Consent) (ports.Consent, ports.Consent, error) {
	if err := c.Validate(); err != nil {
		return ports.Consent{}, ports.Consent{}, err
	}
	var rows []struct {
		Prev bool `db:"prev"`
		consentRow
	}
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `WITH old AS (
			SELECT `+consentCols+` FROM messaging_consent WHERE shop_id = $1 AND contact_id = $2 AND topic = $3 FOR UPDATE
		), upsert AS (
			INSERT INTO messaging_consent (shop_id, `+consentCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
			RETURNING `+consentCols+`
		)
		SELECT true AS prev, `+consentCols+` FROM old
		UNION ALL SELECT false AS prev, `+consentCols+` FROM upsert`,
		r.t.shop, c.Contact, c.Topic, c.OptedOut, c.Source, r.t.store.now())
	if err != nil {
		return ports.Consent{}, ports.Consent{}, wrap("set consent", err)
	}
	var before, stored ports.Consent
	for _, row := range rows {
		if row.Prev {
			before = row.port()
		} else {
			stored = row.port()
		}
	}
	return before, stored, nil
}

// MergeContacts runs as a few statements inside the unit of work's
// transaction, after locking both contacts.
func (r consent) MergeContacts(ctx context.Context, keepID, dropID ports.ContactID) (ports.Contact, error) {
	if keepID == dropID {
		return ports.Contact{}, ports.Invalid("contact", "cannot merge a contact into itself")
	}
	var locked []contactRow
	err := sqlx.SelectContext(ctx, r.t.q, &locked, `SELECT `+contactCols+` FROM messaging_contacts
		WHERE shop_id = $1 AND id IN ($2, $3) ORDER BY id FOR UPDATE`, r.t.shop, keepID, dropID)
	if err != nil {
		return ports.Contact{}, wrap("merge contacts", err)
	}
	if len(locked) != 2 {
		return ports.Contact{}, notFound("merge contacts")
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
		{"merge contacts: move messages", `UPDATE outbox_messages SET contact_id = $1 WHERE shop_id = $2 AND contact_id = $3`,
			[]any{keepID, r.t.shop, dropID}},
		// For each topic drop has: keep's record stays when it is an
		// opt-out that drop's does not beat (drop not opted out, or keep's
		// is later); otherwise drop's replaces it.
		{"merge contacts: consent", `INSERT INTO messaging_consent AS k (shop_id, contact_id, topic, opted_out, source, changed_at)
			SELECT shop_id, $1, topic, opted_out, source, changed_at FROM messaging_consent WHERE shop_id = $2 AND contact_id = $3
			ON CONFLICT (shop_id, contact_id, topic) DO UPDATE SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at
			WHERE (excluded.opted_out AND NOT k.opted_out)
			   OR (excluded.opted_out = k.opted_out AND excluded.changed_at > k.changed_at)`,
			[]any{keepID, r.t.shop, dropID}},
		{"merge contacts: drop consent", `DELETE FROM messaging_consent WHERE shop_id = $1 AND contact_id = $2`, []any{r.t.shop, dropID}},
		{"merge contacts: drop contact", `DELETE FROM messaging_contacts WHERE shop_id = $1 AND id = $2`, []any{r.t.shop, dropID}},
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
