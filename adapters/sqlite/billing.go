package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Billing() ports.BillingRepo { return billingRepo{t} }

// billingRepo is the billing repository of one shopTx. Every statement
// binds t.shop; the directory columns of shops are written for t.shop's
// row only. The single writer connection makes each unit of work's
// read-decide-write atomic.
type billingRepo struct{ t *shopTx }

type billingRow struct {
	CustomerID         sql.NullString `db:"customer_id"`
	SubscriptionID     sql.NullString `db:"subscription_id"`
	SubscriptionStatus sql.NullString `db:"subscription_status"`
	PriceID            sql.NullString `db:"price_id"`
	CurrentPeriodEnd   *int64         `db:"current_period_end"`
	CancelAtPeriodEnd  bool           `db:"cancel_at_period_end"`
	CardBrand          sql.NullString `db:"card_brand"`
	CardLast4          sql.NullString `db:"card_last4"`
	ConnectAccountID   sql.NullString `db:"connect_account_id"`
	ChargesEnabled     bool           `db:"charges_enabled"`
	PayoutsEnabled     bool           `db:"payouts_enabled"`
	DetailsSubmitted   bool           `db:"details_submitted"`
	SubscriptionAsOf   *int64         `db:"subscription_as_of"`
	CardAsOf           *int64         `db:"card_as_of"`
	ConnectAsOf        *int64         `db:"connect_as_of"`
	CreatedAt          int64          `db:"created_at"`
	UpdatedAt          int64          `db:"updated_at"`
	CancelledAt        *int64         `db:"cancelled_at"`
}

const billingSelect = `SELECT b.customer_id, b.subscription_id, b.subscription_status, b.price_id, b.current_period_end,
	b.cancel_at_period_end, b.card_brand, b.card_last4, b.connect_account_id, b.charges_enabled, b.payouts_enabled,
	b.details_submitted, b.subscription_as_of, b.card_as_of, b.connect_as_of, b.created_at, b.updated_at, s.cancelled_at
	FROM billing_accounts b JOIN shops s ON s.id = b.shop_id WHERE b.shop_id = ?`

func (r billingRow) port() ports.BillingAccount {
	return ports.BillingAccount{
		CustomerID: r.CustomerID.String, SubscriptionID: r.SubscriptionID.String,
		SubscriptionStatus: ports.SubscriptionStatus(r.SubscriptionStatus.String), PriceID: r.PriceID.String,
		CurrentPeriodEnd: optionalTime(r.CurrentPeriodEnd), CancelAtPeriodEnd: r.CancelAtPeriodEnd,
		CardBrand: r.CardBrand.String, CardLast4: r.CardLast4.String,
		ConnectAccountID: r.ConnectAccountID.String, ChargesEnabled: r.ChargesEnabled,
		PayoutsEnabled: r.PayoutsEnabled, DetailsSubmitted: r.DetailsSubmitted,
		SubscriptionAsOf: optionalTime(r.SubscriptionAsOf), CardAsOf: optionalTime(r.CardAsOf),
		ConnectAsOf: optionalTime(r.ConnectAsOf), CancelledAt: optionalTime(r.CancelledAt),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
}

// optionalTime reads a nullable microsecond time.
func optionalTime(us *int64) time.Time {
	if us == nil {
		return time.Time{}
	}
	return fromMicros(*us)
}

// optionalMicros stores the zero time as NULL.
func optionalMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	us := micros(t)
	return &us
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (r billingRepo) Get(ctx context.Context) (ports.BillingAccount, error) {
	var row billingRow
	if err := r.t.q.GetContext(ctx, &row, billingSelect, r.t.shop); err != nil {
		return ports.BillingAccount{}, wrap("get billing", err)
	}
	return row.port(), nil
}

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

// link sets the directory's dirCol and the billing row's col to id unless
// the shop has another ID there; checks come before writes, so a refusal
// writes nothing. col and dirCol are constants of this file.
func (r billingRepo) link(ctx context.Context, op, col, dirCol, id string) (ports.BillingAccount, error) {
	var owner string
	err := r.t.q.GetContext(ctx, &owner, `SELECT id FROM shops WHERE `+dirCol+` = ?`, id)
	switch {
	case err == nil && owner != r.t.shop.String():
		return ports.BillingAccount{}, fmt.Errorf("%s: another shop's: %w", op, ports.ErrConflict)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return ports.BillingAccount{}, wrap(op, err)
	}
	var stored sql.NullString
	err = r.t.q.GetContext(ctx, &stored, `SELECT `+col+` FROM billing_accounts WHERE shop_id = ?`, r.t.shop)
	switch {
	case err == nil && stored.Valid && stored.String != id:
		return ports.BillingAccount{}, fmt.Errorf("%s: the shop has another one: %w", op, ports.ErrConflict)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return ports.BillingAccount{}, wrap(op, err)
	}
	var dir sql.NullString
	if err := r.t.q.GetContext(ctx, &dir, `SELECT `+dirCol+` FROM shops WHERE id = ?`, r.t.shop); err != nil {
		return ports.BillingAccount{}, wrap(op, err)
	}
	if dir.Valid && dir.String != id {
		return ports.BillingAccount{}, fmt.Errorf("%s: the directory names another one: %w", op, ports.ErrConflict)
	}
	now := r.t.store.now()
	if !stored.Valid {
		_, err := r.t.q.ExecContext(ctx, `INSERT INTO billing_accounts (shop_id, `+col+`, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id) DO UPDATE SET `+col+` = excluded.`+col+`, updated_at = excluded.updated_at`, r.t.shop, id, now, now)
		if err != nil {
			return ports.BillingAccount{}, wrap(op, err)
		}
	}
	if !dir.Valid {
		if _, err := r.t.q.ExecContext(ctx, `UPDATE shops SET `+dirCol+` = ? WHERE id = ?`, id, r.t.shop); err != nil {
			return ports.BillingAccount{}, wrap(op, err)
		}
	}
	return r.Get(ctx)
}

func (r billingRepo) ApplySubscription(ctx context.Context, s ports.SubscriptionState) (ports.BillingChange, error) {
	if err := s.Validate(); err != nil {
		return ports.BillingChange{}, err
	}
	return r.apply(ctx, "apply subscription", func(a ports.BillingAccount) (ports.BillingAccount, bool, error) {
		if a.CustomerID != s.CustomerID {
			return a, false, fmt.Errorf("apply subscription: another customer's: %w", ports.ErrConflict)
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
			return a, false, fmt.Errorf("apply card: another customer's: %w", ports.ErrConflict)
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
			return a, false, fmt.Errorf("apply connect: another account's: %w", ports.ErrConflict)
		}
		return a.WithConnect(c), !c.AsOf.Before(a.ConnectAsOf), nil
	})
}

// apply reads the shop's billing row, asks decide for the new state and
// whether to store it, and stores it: the state columns, and the
// directory's retention clock when it changed.
func (r billingRepo) apply(ctx context.Context, op string, decide func(ports.BillingAccount) (ports.BillingAccount, bool, error)) (ports.BillingChange, error) {
	old, err := r.Get(ctx)
	if err != nil {
		return ports.BillingChange{}, fmt.Errorf("%s: %w", op, err)
	}
	next, ok, err := decide(old)
	if err != nil || !ok {
		return ports.BillingChange{Before: old, After: old}, err
	}
	now := r.t.store.now()
	next.UpdatedAt = fromMicros(now)
	_, err = r.t.q.ExecContext(ctx, `UPDATE billing_accounts SET subscription_id = ?, subscription_status = ?, price_id = ?,
		current_period_end = ?, cancel_at_period_end = ?, card_brand = ?, card_last4 = ?, charges_enabled = ?,
		payouts_enabled = ?, details_submitted = ?, subscription_as_of = ?, card_as_of = ?, connect_as_of = ?,
		updated_at = ? WHERE shop_id = ?`,
		nullString(next.SubscriptionID), nullString(string(next.SubscriptionStatus)), nullString(next.PriceID),
		optionalMicros(next.CurrentPeriodEnd), next.CancelAtPeriodEnd, nullString(next.CardBrand), nullString(next.CardLast4),
		next.ChargesEnabled, next.PayoutsEnabled, next.DetailsSubmitted, optionalMicros(next.SubscriptionAsOf),
		optionalMicros(next.CardAsOf), optionalMicros(next.ConnectAsOf), now, r.t.shop)
	if err != nil {
		return ports.BillingChange{}, wrap(op, err)
	}
	if !next.CancelledAt.Equal(old.CancelledAt) {
		if _, err := r.t.q.ExecContext(ctx, `UPDATE shops SET cancelled_at = ? WHERE id = ?`, optionalMicros(next.CancelledAt), r.t.shop); err != nil {
			return ports.BillingChange{}, wrap(op, err)
		}
	}
	return ports.BillingChange{Before: old, After: next, Applied: true}, nil
}

func (r billingRepo) RecordEvent(ctx context.Context, e ports.ProcessedEvent) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	res, err := r.t.q.ExecContext(ctx, `INSERT INTO billing_events (shop_id, event_id, type, created, processed_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop_id, event_id) DO NOTHING`,
		r.t.shop, e.ID, e.Type, micros(e.Created), r.t.store.now())
	n, err := affected("record billing event", res, err)
	return n == 1, err
}

func (r billingRepo) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM billing_events WHERE shop_id = ? AND created < ?`, r.t.shop, micros(t))
	return affected("delete billing events", res, err)
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
		return ports.ShopID{}, fmt.Errorf("%s: %w", op, ports.ErrNotFound)
	}
	var shop ports.ShopID
	if err := r.t.q.GetContext(ctx, &shop, `SELECT id FROM shops WHERE `+col+` = ?`, id); err != nil {
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
		CancelledAt int64        `db:"cancelled_at"`
	}
	err := r.t.q.SelectContext(ctx, &rows, `SELECT id, cancelled_at FROM shops
		WHERE cancelled_at IS NOT NULL AND cancelled_at <= ? ORDER BY cancelled_at, id LIMIT ?`, micros(t), limit)
	if err != nil {
		return nil, wrap("shops cancelled before", err)
	}
	out := make([]ports.ShopCancellation, len(rows))
	for i, row := range rows {
		out[i] = ports.ShopCancellation{Shop: row.ID, CancelledAt: fromMicros(row.CancelledAt)}
	}
	return out, nil
}
