package sqlite

import (
	"context"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

type orgs struct{ t *globalTx }

type orgRow struct {
	ID        ports.OrgID `db:"id"`
	Name      string      `db:"name"`
	CreatedAt int64       `db:"created_at"`
}

func (r orgRow) port() ports.Org {
	return ports.Org{ID: r.ID, Name: r.Name, CreatedAt: fromMicros(r.CreatedAt)}
}

func (r orgs) Create(ctx context.Context, o ports.Org) (ports.Org, error) {
	if err := o.Validate(); err != nil {
		return ports.Org{}, err
	}
	row := orgRow{ID: o.ID, Name: o.Name, CreatedAt: r.t.store.now()}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES (:id, :name, :created_at)`, row)
	if err != nil {
		return ports.Org{}, wrap("create org", err)
	}
	return row.port(), nil
}

func (r orgs) Get(ctx context.Context, id ports.OrgID) (ports.Org, error) {
	var row orgRow
	err := r.t.q.GetContext(ctx, &row, `SELECT id, name, created_at FROM orgs WHERE id = ?`, id)
	if err != nil {
		return ports.Org{}, wrap("get org", err)
	}
	return row.port(), nil
}

type shops struct{ t *globalTx }

type shopRow struct {
	ID        ports.ShopID     `db:"id"`
	OrgID     ports.OrgID      `db:"org_id"`
	Slug      string           `db:"slug"`
	Name      string           `db:"name"`
	Status    ports.ShopStatus `db:"status"`
	CreatedAt int64            `db:"created_at"`
}

func (r shopRow) port() ports.Shop {
	return ports.Shop{ID: r.ID, OrgID: r.OrgID, Slug: r.Slug, Name: r.Name, Status: r.Status, CreatedAt: fromMicros(r.CreatedAt)}
}

const shopCols = `id, org_id, slug, name, status, created_at`

func (r shops) Create(ctx context.Context, s ports.Shop) (ports.Shop, error) {
	s.Slug = strings.ToLower(s.Slug)
	if err := s.Validate(); err != nil {
		return ports.Shop{}, err
	}
	row := shopRow{ID: s.ID, OrgID: s.OrgID, Slug: s.Slug, Name: s.Name, Status: s.Status, CreatedAt: r.t.store.now()}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO shops (`+shopCols+`) VALUES (:id, :org_id, :slug, :name, :status, :created_at)`, row)
	if err != nil {
		return ports.Shop{}, wrap("create shop", err)
	}
	return row.port(), nil
}

func (r shops) Get(ctx context.Context, id ports.ShopID) (ports.Shop, error) {
	var row shopRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+shopCols+` FROM shops WHERE id = ?`, id); err != nil {
		return ports.Shop{}, wrap("get shop", err)
	}
	return row.port(), nil
}

func (r shops) GetBySlug(ctx context.Context, slug string) (ports.Shop, error) {
	var row shopRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+shopCols+` FROM shops WHERE slug = ?`, strings.ToLower(slug)); err != nil {
		return ports.Shop{}, wrap("get shop by slug", err)
	}
	return row.port(), nil
}

func (r shops) ListByOrg(ctx context.Context, org ports.OrgID) ([]ports.Shop, error) {
	var rows []shopRow
	if err := r.t.q.SelectContext(ctx, &rows, `SELECT `+shopCols+` FROM shops WHERE org_id = ? ORDER BY created_at, id`, org); err != nil {
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
	res, err := r.t.q.ExecContext(ctx, `UPDATE shops SET status = ? WHERE id = ?`, status, id)
	if err != nil {
		return wrap("set shop status", err)
	}
	return mustAffect("set shop status", res)
}

type users struct{ t *globalTx }

type userRow struct {
	ID         ports.UserID `db:"id"`
	Email      string       `db:"email"`
	Name       string       `db:"name"`
	CreatedAt  int64        `db:"created_at"`
	VerifiedAt *int64       `db:"email_verified_at"`
}

const userCols = `id, email, name, created_at, email_verified_at`

func (r userRow) port() ports.User {
	u := ports.User{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: fromMicros(r.CreatedAt)}
	if r.VerifiedAt != nil {
		u.VerifiedAt = fromMicros(*r.VerifiedAt)
	}
	return u
}

func (r users) Create(ctx context.Context, u ports.User) (ports.User, error) {
	u.Email = ports.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return ports.User{}, err
	}
	row := userRow{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: r.t.store.now()}
	if !u.VerifiedAt.IsZero() {
		at := micros(u.VerifiedAt)
		row.VerifiedAt = &at
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (:id, :email, :name, :created_at, :email_verified_at)`, row)
	if err != nil {
		return ports.User{}, wrap("create user", err)
	}
	return row.port(), nil
}

func (r users) Get(ctx context.Context, id ports.UserID) (ports.User, error) {
	var row userRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+userCols+` FROM users WHERE id = ?`, id); err != nil {
		return ports.User{}, wrap("get user", err)
	}
	return row.port(), nil
}

func (r users) GetByEmail(ctx context.Context, email string) (ports.User, error) {
	var row userRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+userCols+` FROM users WHERE email = ?`, ports.NormalizeEmail(email)); err != nil {
		return ports.User{}, wrap("get user by email", err)
	}
	return row.port(), nil
}
