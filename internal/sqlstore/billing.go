package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Billing implements ports.ShopTx.
func (t *Shop) Billing() ports.BillingRepo { return billingRepo{t} }

// billingRepo is the billing repository of one Shop. Every statement binds
// t.shop; the directory columns of shops (a global table) are written for
// t.shop's row only.
//
// Writes take the locks in one order — the shop's billing row, then its
// directory row, then (through the audit repository) its audit head — so
// concurrent units of work on one shop wait for each other instead of
// deadlocking (on SQLite the one writer serialises them anyway).
type billingRepo struct{ t *Shop }

var _ ports.BillingRepo = billingRepo{}

type billingRow struct {
	CustomerID         sql.NullString `db:"customer_id"`
	SubscriptionID     sql.NullString `db:"subscription_id"`
	SubscriptionStatus sql.NullString `db:"subscription_status"`
	PriceID            sql.NullString `db:"price_id"`
	CurrentPeriodEnd   Time           `db:"current_period_end"`
	CancelAtPeriodEnd  bool           `db:"cancel_at_period_end"`
	CardBrand          sql.NullString `db:"card_brand"`
	CardLast4          sql.NullString `db:"card_last4"`
	ConnectAccountID   sql.NullString `db:"connect_account_id"`
	ChargesEnabled     bool           `db:"charges_enabled"`
	PayoutsEnabled     bool           `db:"payouts_enabled"`
	DetailsSubmitted   bool           `db:"details_submitted"`
	SubscriptionAsOf   Time           `db:"subscription_as_of"`
	CardAsOf           Time           `db:"card_as_of"`
	ConnectAsOf        Time           `db:"connect_as_of"`
	CreatedAt          Time           `db:"created_at"`
	UpdatedAt          Time           `db:"updated_at"`
	CancelledAt        Time           `db:"cancelled_at"`
}

// billingSelect reads the shop's billing row with its directory row's
// retention clock; its one parameter is the shop.
const billingSelect = `SELECT b.customer_id, b.subscription_id, b.subscription_status, b.price_id, b.current_period_end,
	b.cancel_at_period_end, b.card_brand, b.card_last4, b.connect_account_id, b.charges_enabled, b.payouts_enabled,
	b.details_submitted, b.subscription_as_of, b.card_as_of, b.connect_as_of, b.created_at, b.updated_at, s.cancelled_at
	FROM billing_accounts b JOIN shops s ON s.id = b.shop_id WHERE b.shop_id = ?`

func (r billingRow) port() ports.BillingAccount {
	return ports.BillingAccount{
		CustomerID: r.CustomerID.String, SubscriptionID: r.SubscriptionID.String,
		SubscriptionStatus: ports.SubscriptionStatus(r.SubscriptionStatus.String), PriceID: r.PriceID.String,
		CurrentPeriodEnd: r.CurrentPeriodEnd.Time, CancelAtPeriodEnd: r.CancelAtPeriodEnd,
		CardBrand: r.CardBrand.String, CardLast4: r.CardLast4.String,
		ConnectAccountID: r.ConnectAccountID.String, ChargesEnabled: r.ChargesEnabled,
		PayoutsEnabled: r.PayoutsEnabled, DetailsSubmitted: r.DetailsSubmitted,
		SubscriptionAsOf: r.SubscriptionAsOf.Time, CardAsOf: r.CardAsOf.Time,
		ConnectAsOf: r.ConnectAsOf.Time, CancelledAt: r.CancelledAt.Time,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
}

// conflict is ports.ErrConflict named with the dialect, op and why.
func (r billingRepo) conflict(op, why string) error {
	return fmt.Errorf("%s: %s: %s: %w", r.t.d.Name(), op, why, ports.ErrConflict)
}

func (r billingRepo) Get(ctx context.Context) (ports.BillingAccount, error) {
	return r.read(ctx, "get billing", "")
}

// read returns the shop's billing state; lock is "" or the dialect's
// locking clause.
func (r billingRepo) read(ctx context.Context, op, lock string) (ports.BillingAccount, error) {
	var row billingRow
	if err := r.t.get(ctx, &row, billingSelect+lock, r.t.shop); err != nil {
		return ports.BillingAccount{}, r.t.wrap(op, err)
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

// link sets the billing row's col and the directory's dirCol to id unless
// the shop has another ID there or id is another shop's. col and dirCol
// are constants of this file.
//
// The checks come before the writes, so a refusal writes nothing: the
// directory is read first (id is another shop's, or the shop's row names
// another ID); the billing row's upsert keeps an ID already there and
// returns it, writing nothing then (on Postgres it takes the billing
// row's lock, first in the lock order). The directory's update is
// conditional and the directory's unique indexes hold, so a concurrent
// link that won after the reads still ends in ErrConflict.
func (r billingRepo) link(ctx context.Context, op, col, dirCol, id string) (ports.BillingAccount, error) {
	var dir []struct {
		ID  ports.ShopID   `db:"id"`
		Dir sql.NullString `db:"dir"`
	}
	if err := r.t.sel(ctx, &dir, `SELECT id, `+dirCol+` AS dir FROM shops WHERE id = ? OR `+dirCol+` = ?`, r.t.shop, id); err != nil {
		return ports.BillingAccount{}, r.t.wrap(op, err)
	}
	for _, row := range dir {
		switch {
		case row.ID != r.t.shop:
			return ports.BillingAccount{}, r.conflict(op, "another shop's")
		case row.Dir.Valid && row.Dir.String != id:
			return ports.BillingAccount{}, r.conflict(op, "the directory names another one")
		}
	}
	now := r.t.now()
	var stored sql.NullString
	err := r.t.get(ctx, &stored, `INSERT INTO billing_accounts AS b (shop_id, `+col+`, created_at, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET `+col+` = COALESCE(b.`+col+`, excluded.`+col+`),
			updated_at = CASE WHEN b.`+col+` IS NULL THEN excluded.updated_at ELSE b.updated_at END
		RETURNING `+col, r.t.shop, id, now, now)
	if err != nil {
		return ports.BillingAccount{}, r.t.wrap(op, err)
	}
	if stored.String != id {
		return ports.BillingAccount{}, r.conflict(op, "the shop has another one")
	}
	n, err := r.t.exec(ctx, `UPDATE shops SET `+dirCol+` = ? WHERE id = ? AND (`+dirCol+` IS NULL OR `+dirCol+` = ?)`, id, r.t.shop, id)
	if err != nil {
		return ports.BillingAccount{}, r.t.wrap(op, err)
	}
	if n != 1 {
		return ports.BillingAccount{}, r.conflict(op, "the directory names another one")
	}
	return r.read(ctx, op, "")
}

func (r billingRepo) ApplySubscription(ctx context.Context, s ports.SubscriptionState) (ports.BillingChange, error) {
	if err := s.Validate(); err != nil {
		return ports.BillingChange{}, err
	}
	return r.apply(ctx, "apply subscription", func(a ports.BillingAccount) (ports.BillingAccount, bool, error) {
		if a.CustomerID != s.CustomerID {
			return a, false, r.conflict("apply subscription", "another customer's")
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
			return a, false, r.conflict("apply card", "another customer's")
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
			return a, false, r.conflict("apply connect", "another account's")
		}
		return a.WithConnect(c), !c.AsOf.Before(a.ConnectAsOf), nil
	})
}

// apply reads the shop's billing row under its lock, asks decide for the
// new state and whether to store it, and stores it: the state columns,
// and the directory's retention clock when it changed.
func (r billingRepo) apply(ctx context.Context, op string, decide func(ports.BillingAccount) (ports.BillingAccount, bool, error)) (ports.BillingChange, error) {
	old, err := r.read(ctx, op, r.t.lock("FOR UPDATE OF b"))
	if err != nil {
		return ports.BillingChange{}, err
	}
	next, ok, err := decide(old)
	if err != nil || !ok {
		return ports.BillingChange{Before: old, After: old}, err
	}
	next.UpdatedAt = r.t.now()
	_, err = r.t.exec(ctx, `UPDATE billing_accounts SET subscription_id = ?, subscription_status = ?, price_id = ?,
		current_period_end = ?, cancel_at_period_end = ?, card_brand = ?, card_last4 = ?, charges_enabled = ?,
		payouts_enabled = ?, details_submitted = ?, subscription_as_of = ?, card_as_of = ?, connect_as_of = ?,
		updated_at = ? WHERE shop_id = ?`,
		orNull(next.SubscriptionID), orNull(string(next.SubscriptionStatus)), orNull(next.PriceID),
		nullTime(next.CurrentPeriodEnd), next.CancelAtPeriodEnd, orNull(next.CardBrand), orNull(next.CardLast4),
		next.ChargesEnabled, next.PayoutsEnabled, next.DetailsSubmitted, nullTime(next.SubscriptionAsOf),
		nullTime(next.CardAsOf), nullTime(next.ConnectAsOf), next.UpdatedAt, r.t.shop)
	if err != nil {
		return ports.BillingChange{}, r.t.wrap(op, err)
	}
	if !next.CancelledAt.Equal(old.CancelledAt) {
		if _, err := r.t.exec(ctx, `UPDATE shops SET cancelled_at = ? WHERE id = ?`, nullTime(next.CancelledAt), r.t.shop); err != nil {
			return ports.BillingChange{}, r.t.wrap(op, err)
		}
	}
	return ports.BillingChange{Before: old, After: next, Applied: true}, nil
}

// RecordEvent is one INSERT … ON CONFLICT DO NOTHING: on Postgres a
// concurrent insert of the same key waits for the first transaction and
// then inserts nothing (or inserts, if the first rolled back).
func (r billingRepo) RecordEvent(ctx context.Context, e ports.ProcessedEvent) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	n, err := r.t.exec(ctx, `INSERT INTO billing_events (shop_id, event_id, type, created, processed_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop_id, event_id) DO NOTHING`,
		r.t.shop, e.ID, e.Type, e.Created, r.t.now())
	if err != nil {
		return false, r.t.wrap("record billing event", err)
	}
	return n == 1, nil
}

func (r billingRepo) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM billing_events WHERE shop_id = ? AND created < ?`, r.t.shop, t)
	if err != nil {
		return 0, r.t.wrap("delete billing events", err)
	}
	return int(n), nil
}

// BillingDirectory implements ports.GlobalTx.
func (t *Global) BillingDirectory() ports.BillingDirectoryRepo { return billingDirectory{t} }

// billingDirectory reads the directory columns of shops.
type billingDirectory struct{ t *Global }

var _ ports.BillingDirectoryRepo = billingDirectory{}

func (r billingDirectory) ShopByCustomer(ctx context.Context, customerID string) (ports.ShopID, error) {
	return r.shopBy(ctx, "shop by customer", "stripe_customer_id", customerID)
}

func (r billingDirectory) ShopByConnectAccount(ctx context.Context, accountID string) (ports.ShopID, error) {
	return r.shopBy(ctx, "shop by connect account", "stripe_account_id", accountID)
}

// shopBy finds the shop whose col is id; col is a constant of this file.
func (r billingDirectory) shopBy(ctx context.Context, op, col, id string) (ports.ShopID, error) {
	if id == "" {
		return ports.ShopID{}, r.t.notFound(op)
	}
	var shop ports.ShopID
	if err := r.t.get(ctx, &shop, `SELECT id FROM shops WHERE `+col+` = ?`, id); err != nil {
		return ports.ShopID{}, r.t.wrap(op, err)
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
		CancelledAt Time         `db:"cancelled_at"`
	}
	err := r.t.sel(ctx, &rows, `SELECT id, cancelled_at FROM shops
		WHERE cancelled_at IS NOT NULL AND cancelled_at <= ? ORDER BY cancelled_at, id LIMIT ?`, t, limit)
	if err != nil {
		return nil, r.t.wrap("shops cancelled before", err)
	}
	out := make([]ports.ShopCancellation, len(rows))
	for i, row := range rows {
		out[i] = ports.ShopCancellation{Shop: row.ID, CancelledAt: row.CancelledAt.Time}
	}
	return out, nil
}

func (r billingDirectory) CancelledAfter(ctx context.Context, after ports.ShopCancellation, until time.Time, limit int) ([]ports.ShopCancellation, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	var rows []struct {
		ID          ports.ShopID `db:"id"`
		CancelledAt Time         `db:"cancelled_at"`
	}
	var err error
	if after.CancelledAt.IsZero() {
		err = r.t.sel(ctx, &rows, `SELECT id, cancelled_at FROM shops
			WHERE cancelled_at IS NOT NULL AND cancelled_at <= ? ORDER BY cancelled_at, id LIMIT ?`, until, limit)
	} else {
		err = r.t.sel(ctx, &rows, `SELECT id, cancelled_at FROM shops
			WHERE cancelled_at IS NOT NULL AND cancelled_at <= ? AND (cancelled_at > ? OR (cancelled_at = ? AND id > ?))
			ORDER BY cancelled_at, id LIMIT ?`, until, after.CancelledAt, after.CancelledAt, after.Shop, limit)
	}
	if err != nil {
		return nil, r.t.wrap("shops cancelled after", err)
	}
	out := make([]ports.ShopCancellation, len(rows))
	for i, row := range rows {
		out[i] = ports.ShopCancellation{Shop: row.ID, CancelledAt: row.CancelledAt.Time}
	}
	return out, nil
}
