package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Billing() ports.BillingRepo { return billingRepo{t} }

// billingRepo is the billing repository of one shopTx. Every statement
// binds t.shop, and row-level security holds it to that shop as well. The
// directory columns of shops (a global table) are written for t.shop's row
// only.
//
// Writes take the locks in one order — the shop's billing row, then its
// directory row, then (through the audit repository) its audit head — so
// concurrent units of work on one shop wait for each other instead of
// deadlocking.
type billingRepo struct{ t *shopTx }

type billingRow struct {
	CustomerID         sql.NullString `db:"customer_id"`
	SubscriptionID     sql.NullString `db:"subscription_id"`
	SubscriptionStatus sql.NullString `db:"subscription_status"`
	PriceID            sql.NullString `db:"price_id"`
	CurrentPeriodEnd   sql.NullTime   `db:"current_period_end"`
	CancelAtPeriodEnd  bool           `db:"cancel_at_period_end"`
	CardBrand          sql.NullString `db:"card_brand"`
	CardLast4          sql.NullString `db:"card_last4"`
	ConnectAccountID   sql.NullString `db:"connect_account_id"`
	ChargesEnabled     bool           `db:"charges_enabled"`
	PayoutsEnabled     bool           `db:"payouts_enabled"`
	DetailsSubmitted   bool           `db:"details_submitted"`
	SubscriptionAsOf   sql.NullTime   `db:"subscription_as_of"`
	CardAsOf           sql.NullTime   `db:"card_as_of"`
	ConnectAsOf        sql.NullTime   `db:"connect_as_of"`
	CreatedAt          time.Time      `db:"created_at"`
	UpdatedAt          time.Time      `db:"updated_at"`
	CancelledAt        sql.NullTime   `db:"cancelled_at"`
}

// billingSelect reads the shop's billing row with its directory row's
// retention clock.
const billingSelect = `SELECT b.customer_id, b.subscription_id, b.subscription_status, b.price_id, b.current_period_end,
	b.cancel_at_period_end, b.card_brand, b.card_last4, b.connect_account_id, b.charges_enabled, b.payouts_enabled,
	b.details_submitted, b.subscription_as_of, b.card_as_of, b.connect_as_of, b.created_at, b.updated_at, s.cancelled_at
	FROM billing_accounts b JOIN shops s ON s.id = b.shop_id WHERE b.shop_id = $1`

func (r billingRow) port() ports.BillingAccount {
	return ports.BillingAccount{
		CustomerID: r.CustomerID.String, SubscriptionID: r.SubscriptionID.String,
		SubscriptionStatus: ports.SubscriptionStatus(r.SubscriptionStatus.String), PriceID: r.PriceID.String,
		CurrentPeriodEnd: utcOrZero(r.CurrentPeriodEnd), CancelAtPeriodEnd: r.CancelAtPeriodEnd,
		CardBrand: r.CardBrand.String, CardLast4: r.CardLast4.String,
		ConnectAccountID: r.ConnectAccountID.String, ChargesEnabled: r.ChargesEnabled,
		PayoutsEnabled: r.PayoutsEnabled, DetailsSubmitted: r.DetailsSubmitted,
		SubscriptionAsOf: utcOrZero(r.SubscriptionAsOf), CardAsOf: utcOrZero(r.CardAsOf),
		ConnectAsOf: utcOrZero(r.ConnectAsOf), CancelledAt: utcOrZero(r.CancelledAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func utcOrZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: ports.Timestamp(t), Valid: !t.IsZero()}
}

func (r billingRepo) Get(ctx context.Context) (ports.BillingAccount, error) {
	return r.read(ctx, "get billing", "")
}

// read returns the shop's billing state; lock is "" or a locking clause.
func (r billingRepo) read(ctx context.Context, op, lock string) (ports.BillingAccount, error) {
	var row billingRow
	if err := sqlx.GetContext(ctx, r.t.q, &row, billingSelect+lock, r.t.shop); err != nil {
		return ports.BillingAccount{}, wrap(op, err)
	}
	return row.port(), nil
}

// LinkCustomer writes the billing row first and the directory second (the
// lock order); a customer of another shop fails the directory's unique
// index, which aborts the unit of work with ErrConflict.
func (r billingRepo) LinkCustomer(ctx context.Context, customerID string) (ports.BillingAccount, error) {
	if err := ports.ValidateProviderID("customer_id", "cus_", customerID); err != nil {
		return ports.BillingAccount{}, err
	}
	return r.link(ctx, "link customer", "customer_id", "stripe_customer_id", customerID)
}

func (r billingRepo) LinkConnectAccount(ctx context.Context, accountID string) (ports.BillingAccount, error) {
	if err := ports.ValidateProviderID("account_id", "acct_", accountID); err != nil {
		return ports.BillingAccount{}, err
	}
	return r.link(ctx, "link connect account", "connect_account_id", "stripe_account_id", accountID)
}

// link sets the billing row's col and the directory's dirCol to id unless
// the shop has another ID there. col and dirCol are constants of this file.
func (r billingRepo) link(ctx context.Context, op, col, dirCol, id string) (ports.BillingAccount, error) {
	now := r.t.store.now()
	var stored sql.NullString
	err := sqlx.GetContext(ctx, r.t.q, &stored, `INSERT INTO billing_accounts AS b (shop_id, `+col+`, created_at, updated_at)
		VALUES ($1, $2, $3, $3)
		ON CONFLICT (shop_id) DO UPDATE SET `+col+` = COALESCE(b.`+col+`, EXCLUDED.`+col+`),
			updated_at = CASE WHEN b.`+col+` IS NULL THEN EXCLUDED.updated_at ELSE b.updated_at END
		RETURNING `+col, r.t.shop, id, now)
	if err != nil {
		return ports.BillingAccount{}, wrap(op, err)
	}
	if stored.String != id {
		return ports.BillingAccount{}, fmt.Errorf("postgres: %s: the shop has another one: %w", op, ports.ErrConflict)
	}
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE shops SET `+dirCol+` = $2 WHERE id = $1 AND (`+dirCol+` IS NULL OR `+dirCol+` = $2)`, r.t.shop, id))
	if err != nil {
		return ports.BillingAccount{}, wrap(op, err)
	}
	if n != 1 {
		return ports.BillingAccount{}, fmt.Errorf("postgres: %s: the directory names another one: %w", op, ports.ErrConflict)
	}
	return r.read(ctx, op, "")
}

func (r billingRepo) ApplySubscription(ctx context.Context, s ports.SubscriptionState) (ports.BillingChange, error) {
	if err := s.Validate(); err != nil {
		return ports.BillingChange{}, err
	}
	return r.apply(ctx, "apply subscription", func(a ports.BillingAccount) (ports.BillingAccount, bool, error) {
		if a.CustomerID != s.CustomerID {
			return a, false, fmt.Errorf("postgres: apply subscription: another customer's: %w", ports.ErrConflict)
		}
		return a.WithSubscription(s), a.AcceptsSubscription(s), nil
	})
}

func (r billingRepo) ApplyCard(ctx context.Context, c ports.CardState) (ports.BillingChange, error) {
	if err := c.Validate(); err != nil {
		return ports.BillingChange{}, err
	}
	return r.apply(ctx, "apply card", func(a ports.BillingAccount) (ports.BillingAccount, bool, error) {
		if a.CustomerID != c.CustomerID {
			return a, false, fmt.Errorf("postgres: apply card: another customer's: %w", ports.ErrConflict)
		}
		return a.WithCard(c), !c.AsOf.Before(a.CardAsOf), nil
	})
}

func (r billingRepo) ApplyConnect(ctx context.Context, c ports.ConnectState) (ports.BillingChange, error) {
	if err := c.Validate(); err != nil {
		return ports.BillingChange{}, err
	}
	return r.apply(ctx, "apply connect", func(a ports.BillingAccount) (ports.BillingAccount, bool, error) {
		if a.ConnectAccountID != c.AccountID {
			return a, false, fmt.Errorf("postgres: apply connect: another account's: %w", ports.ErrConflict)
		}
		return a.WithConnect(c), !c.AsOf.Before(a.ConnectAsOf), nil
	})
}

// apply locks the shop's billing row, asks decide for the new state and
// whether to store it, and stores it: the state columns, and the
// directory's retention clock when it changed.
func (r billingRepo) apply(ctx context.Context, op string, decide func(ports.BillingAccount) (ports.BillingAccount, bool, error)) (ports.BillingChange, error) {
	old, err := r.read(ctx, op, " FOR UPDATE OF b")
	if err != nil {
		return ports.BillingChange{}, err
	}
	next, ok, err := decide(old)
	if err != nil || !ok {
		return ports.BillingChange{Before: old, After: old}, err
	}
	next.UpdatedAt = r.t.store.now()
	_, err = r.t.q.ExecContext(ctx, `UPDATE billing_accounts SET subscription_id = $2, subscription_status = $3, price_id = $4,
		current_period_end = $5, cancel_at_period_end = $6, card_brand = $7, card_last4 = $8, charges_enabled = $9,
		payouts_enabled = $10, details_submitted = $11, subscription_as_of = $12, card_as_of = $13, connect_as_of = $14,
		updated_at = $15 WHERE shop_id = $1`,
		r.t.shop, nullString(next.SubscriptionID), nullString(string(next.SubscriptionStatus)), nullString(next.PriceID),
		nullTime(next.CurrentPeriodEnd), next.CancelAtPeriodEnd, nullString(next.CardBrand), nullString(next.CardLast4),
		next.ChargesEnabled, next.PayoutsEnabled, next.DetailsSubmitted, nullTime(next.SubscriptionAsOf),
		nullTime(next.CardAsOf), nullTime(next.ConnectAsOf), next.UpdatedAt)
	if err != nil {
		return ports.BillingChange{}, wrap(op, err)
	}
	if !next.CancelledAt.Equal(old.CancelledAt) {
		if _, err := r.t.q.ExecContext(ctx, `UPDATE shops SET cancelled_at = $2 WHERE id = $1`, r.t.shop, nullTime(next.CancelledAt)); err != nil {
			return ports.BillingChange{}, wrap(op, err)
		}
	}
	return ports.BillingChange{Before: old, After: next, Applied: true}, nil
}

// RecordEvent is one INSERT … ON CONFLICT DO NOTHING: a concurrent insert
// of the same key waits for the first transaction and then inserts
// nothing (or inserts, if the first rolled back).
func (r billingRepo) RecordEvent(ctx context.Context, e ports.ProcessedEvent) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	n, err := affected(r.t.q.ExecContext(ctx, `INSERT INTO billing_events (shop_id, event_id, type, created, processed_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop_id, event_id) DO NOTHING`,
		r.t.shop, e.ID, e.Type, ports.Timestamp(e.Created), r.t.store.now()))
	if err != nil {
		return false, wrap("record billing event", err)
	}
	return n == 1, nil
}

func (r billingRepo) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM billing_events WHERE shop_id = $1 AND created < $2`, r.t.shop, ports.Timestamp(t)))
	if err != nil {
		return 0, wrap("delete billing events", err)
	}
	return int(n), nil
}

func (t *globalTx) BillingDirectory() ports.BillingDirectoryRepo { return billingDirectory{t} }

// billingDirectory reads the directory columns of shops.
type billingDirectory struct{ t *globalTx }

func (r billingDirectory) ShopByCustomer(ctx context.Context, customerID string) (ports.ShopID, error) {
	return r.shopBy(ctx, "shop by customer", "stripe_customer_id", customerID)
}

func (r billingDirectory) ShopByConnectAccount(ctx context.Context, accountID string) (ports.ShopID, error) {
	return r.shopBy(ctx, "shop by connect account", "stripe_account_id", accountID)
}

func (r billingDirectory) shopBy(ctx context.Context, op, col, id string) (ports.ShopID, error) {
	if id == "" {
		return ports.ShopID{}, notFound(op)
	}
	var shop ports.ShopID
	if err := sqlx.GetContext(ctx, r.t.q, &shop, `SELECT id FROM shops WHERE `+col+` = $1`, id); err != nil {
		return ports.ShopID{}, wrap(op, err)
	}
	return shop, nil
}

func (r billingDirectory) CancelledBefore(ctx context.Context, t time.Time, limit int) ([]ports.ShopCancellation, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	var rows []struct {
		ID          ports.ShopID `db:"id"`
		CancelledAt time.Time    `db:"cancelled_at"`
	}
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT id, cancelled_at FROM shops
		WHERE cancelled_at IS NOT NULL AND cancelled_at <= $1 ORDER BY cancelled_at, id LIMIT $2`, ports.Timestamp(t), limit)
	if err != nil {
		return nil, wrap("shops cancelled before", err)
	}
	out := make([]ports.ShopCancellation, len(rows))
	for i, row := range rows {
		out[i] = ports.ShopCancellation{Shop: row.ID, CancelledAt: row.CancelledAt.UTC()}
	}
	return out, nil
}
