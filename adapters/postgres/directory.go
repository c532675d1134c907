package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

type orgs struct{ t *globalTx }

func (r orgs) Create(ctx context.Context, o ports.Org) (ports.Org, error) {
	if err := o.Validate(); err != nil {
		return ports.Org{}, err
	}
	o.CreatedAt = r.t.store.now()
	if _, err := r.t.q.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`, o.ID, o.Name, o.CreatedAt); err != nil {
		return ports.Org{}, wrap("create org", err)
	}
	return o, nil
}

func (r orgs) Get(ctx context.Context, id ports.OrgID) (ports.Org, error) {
	var row struct {
		ID        ports.OrgID `db:"id"`
		Name      string      `db:"name"`
		CreatedAt time.Time   `db:"created_at"`
	}
	if err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT id, name, created_at FROM orgs WHERE id = $1`, id); err != nil {
		return ports.Org{}, wrap("get org", err)
	}
	return ports.Org{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.UTC()}, nil
}

type shops struct{ t *globalTx }

type shopRow struct {
	ID        ports.ShopID     `db:"id"`
	OrgID     ports.OrgID      `db:"org_id"`
	Slug      string           `db:"slug"`
	Name      string           `db:"name"`
	Status    ports.ShopStatus `db:"status"`
	CreatedAt time.Time        `db:"created_at"`
}

func (r shopRow) port() ports.Shop {
	return ports.Shop{ID: r.ID, OrgID: r.OrgID, Slug: r.Slug, Name: r.Name, Status: r.Status, CreatedAt: r.CreatedAt.UTC()}
}

const shopCols = `id, org_id, slug, name, status, created_at`

func (r shops) Create(ctx context.Context, s ports.Shop) (ports.Shop, error) {
	s.Slug = strings.ToLower(s.Slug)
	if err := s.Validate(); err != nil {
		return ports.Shop{}, err
	}
	s.CreatedAt = r.t.store.now()
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO shops (`+shopCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ID, s.OrgID, s.Slug, s.Name, s.Status, s.CreatedAt)
	if err != nil {
		return ports.Shop{}, wrap("create shop", err)
	}
	return s, nil
}

func (r shops) get(ctx context.Context, op, where string, arg any) (ports.Shop, error) {
	var row shopRow
	if err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+shopCols+` FROM shops WHERE `+where, arg); err != nil {
		return ports.Shop{}, wrap(op, err)
	}
	return row.port(), nil
}

func (r shops) Get(ctx context.Context, id ports.ShopID) (ports.Shop, error) {
	return r.get(ctx, "get shop", "id = $1", id)
}

func (r shops) GetBySlug(ctx context.Context, slug string) (ports.Shop, error) {
	return r.get(ctx, "get shop by slug", "slug = $1", strings.ToLower(slug))
}

func (r shops) ListByOrg(ctx context.Context, org ports.OrgID) ([]ports.Shop, error) {
	var rows []shopRow
	if err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+shopCols+` FROM shops WHERE org_id = $1 ORDER BY created_at, id`, org); err != nil {
		return nil, wrap("list shops", err)
	}
	out := make([]ports.Shop, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r shops) SetStatus(ctx context.Context, id ports.ShopID, status ports.ShopStatus) error {
	if err := ports.ValidateShopStatus(status); err != nil {
		return err
	}
	res, err := r.t.q.ExecContext(ctx, `UPDATE shops SET status = $1 WHERE id = $2`, status, id)
	if err != nil {
		return wrap("set shop status", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("set shop status")
	}
	return nil
}

type users struct{ t *globalTx }

type userRow struct {
	ID         ports.UserID `db:"id"`
	Email      string       `db:"email"`
	Name       string       `db:"name"`
	CreatedAt  time.Time    `db:"created_at"`
	VerifiedAt *time.Time   `db:"email_verified_at"`
}

const userCols = `id, email, name, created_at, email_verified_at`

func (r userRow) port() ports.User {
	u := ports.User{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	if r.VerifiedAt != nil {
		u.VerifiedAt = r.VerifiedAt.UTC()
	}
	return u
}

func (r users) Create(ctx context.Context, u ports.User) (ports.User, error) {
	u.Email = ports.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return ports.User{}, err
	}
	u.CreatedAt = r.t.store.now()
	var verified *time.Time
	if !u.VerifiedAt.IsZero() {
		u.VerifiedAt = ports.Timestamp(u.VerifiedAt)
		verified = &u.VerifiedAt
	}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5)`, u.ID, u.Email, u.Name, u.CreatedAt, verified)
	if err != nil {
		return ports.User{}, wrap("create user", err)
	}
	return u, nil
}

func (r users) get(ctx context.Context, op, where string, arg any) (ports.User, error) {
	var row userRow
	if err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+userCols+` FROM users WHERE `+where, arg); err != nil {
		return ports.User{}, wrap(op, err)
	}
	return row.port(), nil
}

func (r users) Get(ctx context.Context, id ports.UserID) (ports.User, error) {
	return r.get(ctx, "get user", "id = $1", id)
}

func (r users) GetByEmail(ctx context.Context, email string) (ports.User, error) {
	return r.get(ctx, "get user by email", "email = $1", ports.NormalizeEmail(email))
}
