package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Orgs implements ports.GlobalTx.
func (t *Global) Orgs() ports.OrgRepo { return orgs{t} }

// Shops implements ports.GlobalTx.
func (t *Global) Shops() ports.ShopRepo { return shops{t} }

// orgs keeps orgs (global rows).
type orgs struct{ t *Global }

var _ ports.OrgRepo = orgs{}

// Create validates o, stamps CreatedAt from the store's clock and inserts
// it; the primary key refuses a taken ID with ErrConflict.
func (r orgs) Create(ctx context.Context, o ports.Org) (ports.Org, error) {
	if err := o.Validate(); err != nil {
		return ports.Org{}, err
	}
	o.CreatedAt = r.t.now()
	if _, err := r.t.exec(ctx, `INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)`, o.ID, o.Name, o.CreatedAt); err != nil {
		return ports.Org{}, r.t.wrap("create org", err)
	}
	return o, nil
}

func (r orgs) Get(ctx context.Context, id ports.OrgID) (ports.Org, error) {
	var row struct {
		ID        ports.OrgID `db:"id"`
		Name      string      `db:"name"`
		CreatedAt Time        `db:"created_at"`
	}
	if err := r.t.get(ctx, &row, `SELECT id, name, created_at FROM orgs WHERE id = ?`, id); err != nil {
		return ports.Org{}, r.t.wrap("get org", err)
	}
	return ports.Org{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.Time}, nil
}

// List reads a page of orgs with a count of each one's shops (a
// subquery on the shops_by_org index).
func (r orgs) List(ctx context.Context, q ports.OrgQuery) ([]ports.OrgListing, error) {
	var rows []struct {
		ID        ports.OrgID `db:"id"`
		Name      string      `db:"name"`
		CreatedAt Time        `db:"created_at"`
		Shops     int         `db:"shops"`
	}
	err := r.t.directoryPage(ctx, &rows, "list orgs", "orgs",
		`id, name, created_at, (SELECT COUNT(*) FROM shops s WHERE s.org_id = d.id) AS shops`,
		q.After, !q.After.IsZero(), q.PageLimit())
	if err != nil {
		return nil, err
	}
	out := make([]ports.OrgListing, len(rows))
	for i, row := range rows {
		out[i] = ports.OrgListing{Org: ports.Org{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.Time}, Shops: row.Shops}
	}
	return out, nil
}

// directoryPage reads one page of a global directory table (orgs, shops
// or users) into dest, a pointer to a slice: the rows of
// "SELECT cols FROM table d" in (created_at, id) order, at most limit,
// and when hasAfter only those after the row whose ID is after, whose
// creation time is read first (ErrNotFound if there is none). cols may
// name the row as d. The directory tables are global: no shop to bind.
func (t *Global) directoryPage(ctx context.Context, dest any, op, table, cols string, after any, hasAfter bool, limit int) error {
	query, args := `SELECT `+cols+` FROM `+table+` d`, []any{}
	if hasAfter {
		var at Time
		if err := t.get(ctx, &at, `SELECT created_at FROM `+table+` WHERE id = ?`, after); err != nil {
			return t.wrap(op+": page cursor", err)
		}
		query += ` WHERE (d.created_at, d.id) > (?, ?)`
		args = append(args, at.Time, after)
	}
	args = append(args, limit)
	if err := t.sel(ctx, dest, query+` ORDER BY d.created_at, d.id LIMIT ?`, args...); err != nil {
		return t.wrap(op, err)
	}
	return nil
}

// shops is the global shop directory. shops is a global table (no
// row-level security on Postgres, no wall on SQLite): a shop-bound unit of
// work reaches its own row through ThisShop only.
type shops struct{ t *Global }

var _ ports.ShopRepo = shops{}

type shopRow struct {
	ID        ports.ShopID     `db:"id"`
	OrgID     ports.OrgID      `db:"org_id"`
	Slug      string           `db:"slug"`
	Name      string           `db:"name"`
	Status    ports.ShopStatus `db:"status"`
	CreatedAt Time             `db:"created_at"`
}

func (r shopRow) port() ports.Shop {
	return ports.Shop{ID: r.ID, OrgID: r.OrgID, Slug: r.Slug, Name: r.Name, Status: r.Status, CreatedAt: r.CreatedAt.Time}
}

const shopCols = `id, org_id, slug, name, status, created_at`

// Create lower-cases the slug, validates s, stamps CreatedAt and inserts
// it: ErrConflict for a taken ID or slug, ErrNotFound for an unknown org.
func (r shops) Create(ctx context.Context, s ports.Shop) (ports.Shop, error) {
	s.Slug = strings.ToLower(s.Slug)
	if err := s.Validate(); err != nil {
		return ports.Shop{}, err
	}
	s.CreatedAt = r.t.now()
	_, err := r.t.exec(ctx, `INSERT INTO shops (`+shopCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.OrgID, s.Slug, s.Name, s.Status, s.CreatedAt)
	if err != nil {
		return ports.Shop{}, r.t.wrap("create shop", err)
	}
	return s, nil
}

// get returns the one shop matching where (whose one parameter is arg).
func (r shops) get(ctx context.Context, op, where string, arg any) (ports.Shop, error) {
	var row shopRow
	if err := r.t.get(ctx, &row, `SELECT `+shopCols+` FROM shops WHERE `+where, arg); err != nil {
		return ports.Shop{}, r.t.wrap(op, err)
	}
	return row.port(), nil
}

func (r shops) Get(ctx context.Context, id ports.ShopID) (ports.Shop, error) {
	return r.get(ctx, "get shop", "id = ?", id)
}

func (r shops) GetBySlug(ctx context.Context, slug string) (ports.Shop, error) {
	return r.get(ctx, "get shop by slug", "slug = ?", strings.ToLower(slug))
}

func (r shops) ListByOrg(ctx context.Context, org ports.OrgID) ([]ports.Shop, error) {
	var rows []shopRow
	if err := r.t.sel(ctx, &rows, `SELECT `+shopCols+` FROM shops WHERE org_id = ? ORDER BY created_at, id`, org); err != nil {
		return nil, r.t.wrap("list shops", err)
	}
	out := make([]ports.Shop, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// List reads a page of every org's shops.
func (r shops) List(ctx context.Context, q ports.ShopQuery) ([]ports.Shop, error) {
	var rows []shopRow
	if err := r.t.directoryPage(ctx, &rows, "list shops", "shops", shopCols, q.After, !q.After.IsZero(), q.PageLimit()); err != nil {
		return nil, err
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
	n, err := r.t.exec(ctx, `UPDATE shops SET status = ? WHERE id = ?`, status, id)
	if err != nil {
		return r.t.wrap("set shop status", err)
	}
	if n == 0 {
		return r.t.notFound("set shop status")
	}
	return nil
}

// Users implements ports.GlobalTx.
func (t *Global) Users() ports.UserRepo { return users{SessionEpochs{t}, t} }

// users keeps global user accounts; the session epoch is epoch.go's.
type users struct {
	SessionEpochs
	t *Global
}

var _ ports.UserRepo = users{}

type userRow struct {
	ID         ports.UserID `db:"id"`
	Email      string       `db:"email"`
	Name       string       `db:"name"`
	CreatedAt  Time         `db:"created_at"`
	VerifiedAt Time         `db:"email_verified_at"` // NULL: never verified
}

const userCols = `id, email, name, created_at, email_verified_at`

func (r userRow) port() ports.User {
	return ports.User{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: r.CreatedAt.Time, VerifiedAt: r.VerifiedAt.Time}
}

// Create normalises the e-mail, validates u, stamps CreatedAt and inserts
// it; VerifiedAt is stored as given (NULL for the zero time). The unique
// indexes refuse a taken ID or e-mail with ErrConflict.
func (r users) Create(ctx context.Context, u ports.User) (ports.User, error) {
	u.Email = ports.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return ports.User{}, err
	}
	u.CreatedAt = r.t.now()
	if !u.VerifiedAt.IsZero() {
		u.VerifiedAt = ports.Timestamp(u.VerifiedAt)
	}
	_, err := r.t.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.CreatedAt, nullTime(u.VerifiedAt))
	if err != nil {
		return ports.User{}, r.t.wrap("create user", err)
	}
	return u, nil
}

// get returns the one user matching where (whose one parameter is arg).
func (r users) get(ctx context.Context, op, where string, arg any) (ports.User, error) {
	var row userRow
	if err := r.t.get(ctx, &row, `SELECT `+userCols+` FROM users WHERE `+where, arg); err != nil {
		return ports.User{}, r.t.wrap(op, err)
	}
	return row.port(), nil
}

func (r users) Get(ctx context.Context, id ports.UserID) (ports.User, error) {
	return r.get(ctx, "get user", "id = ?", id)
}

// GetMany reads the users named by ids with one SELECT … WHERE id IN
// (…) over the primary key, each distinct ID spelled out as a placeholder
// (batch.go): at most ports.MaxBatch of them, well under SQLite's limit of
// 32 766 variables a statement.
func (r users) GetMany(ctx context.Context, ids []ports.UserID) (map[ports.UserID]ports.User, error) {
	if len(ids) > ports.MaxBatch {
		return nil, ports.Invalid("users", fmt.Sprintf("at most %d at once", ports.MaxBatch))
	}
	out := make(map[ports.UserID]ports.User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids))
	seen := make(map[ports.UserID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			args = append(args, id)
		}
	}
	var rows []userRow
	if err := r.t.sel(ctx, &rows, `SELECT `+userCols+` FROM users WHERE id IN (`+inList(len(args))+`)`, args...); err != nil {
		return nil, r.t.wrap("get users", err)
	}
	for _, row := range rows {
		out[row.ID] = row.port()
	}
	return out, nil
}

func (r users) GetByEmail(ctx context.Context, email string) (ports.User, error) {
	return r.get(ctx, "get user by email", "email = ?", ports.NormalizeEmail(email))
}

// List reads a page of user accounts.
func (r users) List(ctx context.Context, q ports.UserQuery) ([]ports.User, error) {
	var rows []userRow
	if err := r.t.directoryPage(ctx, &rows, "list users", "users", userCols, q.After, !q.After.IsZero(), q.PageLimit()); err != nil {
		return nil, err
	}
	out := make([]ports.User, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
