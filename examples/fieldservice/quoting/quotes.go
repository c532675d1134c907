package quoting

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/ports"
)

// QuoteRecord is the record type of a quote's public links.
const QuoteRecord = "quote"

// Customer is a shop's customer.
type Customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Quote is a price offered to one of the shop's customers.
type Quote struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Title      string `json:"title"`
	Cents      int64  `json:"cents"`
}

// Quotes runs the app's use cases. Each begins with the guard and runs in
// one InShop unit of work, so its rows and its audit event commit together
// or not at all.
type Quotes struct {
	store  ports.Store
	policy *access.Policy
	clock  ports.Clock
}

// NewQuotes returns the use cases over store, guarded by policy (which must
// know QuotesWrite and QuotesRead, see Policy). A nil clock is the system
// clock. ErrInvalid for a missing store or policy.
func NewQuotes(store ports.Store, policy *access.Policy, clock ports.Clock) (*Quotes, error) {
	if store == nil || policy == nil {
		return nil, ports.Invalid("quotes deps", "store and policy are required")
	}
	if clock == nil {
		clock = ports.SystemClock{}
	}
	return &Quotes{store: store, policy: policy, clock: clock}, nil
}

// AddCustomer adds a customer to the caller's shop (QuotesWrite), with its
// "customer.created" event. ErrInvalid for an empty name.
func (q *Quotes) AddCustomer(ctx context.Context, name string) (Customer, error) {
	sc, err := q.policy.Require(ctx, QuotesWrite)
	if err != nil {
		return Customer{}, err
	}
	c := Customer{ID: uuid.NewString(), Name: strings.TrimSpace(name)}
	if c.Name == "" {
		return Customer{}, ports.Invalid("customer name", "must not be empty")
	}
	err = q.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := exec(ctx, tx, `INSERT INTO customers (shop_id, id, name) VALUES (?, ?, ?)`,
			tx.ShopID().String(), c.ID, c.Name); err != nil {
			return fmt.Errorf("add customer: %w", err)
		}
		_, err := audit.Append(ctx, tx, q.clock, audit.Change{Action: "customer.created", Target: "customer:" + c.ID, After: c})
		return err
	})
	if err != nil {
		return Customer{}, err
	}
	return c, nil
}

// NewQuote is the input of Create.
type NewQuote struct {
	CustomerID string
	Title      string
	Cents      int64
}

// Create creates a quote for one of the caller's shop's customers
// (QuotesWrite) and records "quote.created" in the same unit of work: if
// the audit append fails, no quote exists. ErrInvalid for a malformed
// input; ErrNotFound when the customer is not the shop's (the database's
// composite foreign key refuses it too).
func (q *Quotes) Create(ctx context.Context, in NewQuote) (Quote, error) {
	sc, err := q.policy.Require(ctx, QuotesWrite)
	if err != nil {
		return Quote{}, err
	}
	if _, err := uuid.Parse(in.CustomerID); err != nil {
		return Quote{}, ports.Invalid("customer_id", "must be a UUID")
	}
	qt := Quote{ID: uuid.NewString(), CustomerID: in.CustomerID, Title: strings.TrimSpace(in.Title), Cents: in.Cents}
	switch {
	case qt.Title == "":
		return Quote{}, ports.Invalid("quote title", "must not be empty")
	case qt.Cents < 0:
		return Quote{}, ports.Invalid("quote cents", "must not be negative")
	}
	err = q.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := customerExists(ctx, tx, qt.CustomerID); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `INSERT INTO quotes (shop_id, id, customer_id, title, cents) VALUES (?, ?, ?, ?, ?)`,
			tx.ShopID().String(), qt.ID, qt.CustomerID, qt.Title, qt.Cents); err != nil {
			return fmt.Errorf("create quote: %w", err)
		}
		_, err := audit.Append(ctx, tx, q.clock, audit.Change{Action: "quote.created", Target: "quote:" + qt.ID, After: qt})
		return err
	})
	if err != nil {
		return Quote{}, err
	}
	return qt, nil
}

// Get returns a quote of the caller's shop (QuotesRead); ErrNotFound when
// the shop has none with that ID.
func (q *Quotes) Get(ctx context.Context, id string) (Quote, error) {
	sc, err := q.policy.Require(ctx, QuotesRead)
	if err != nil {
		return Quote{}, err
	}
	return q.get(ctx, sc.Shop, id)
}

// ViewByLink returns the quote a public link's holder may view: only the
// link's own quote, with the "view" action (access.RequireRecord).
func (q *Quotes) ViewByLink(ctx context.Context, id string) (Quote, error) {
	sc, err := access.RequireRecord(ctx, QuoteRecord, id, "view")
	if err != nil {
		return Quote{}, err
	}
	return q.get(ctx, sc.Shop, id)
}

func (q *Quotes) get(ctx context.Context, shop ports.ShopID, id string) (Quote, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Quote{}, fmt.Errorf("quote %q: %w", id, ports.ErrNotFound)
	}
	var qt Quote
	err := q.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		rows, err := query(ctx, tx, `SELECT id, customer_id, title, cents FROM quotes WHERE shop_id = ? AND id = ?`, tx.ShopID().String(), id)
		if err != nil {
			return fmt.Errorf("get quote: %w", err)
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return fmt.Errorf("get quote: %w", err)
			}
			return fmt.Errorf("quote %s: %w", id, ports.ErrNotFound)
		}
		if err := rows.Scan(&qt.ID, &qt.CustomerID, &qt.Title, &qt.Cents); err != nil {
			return fmt.Errorf("get quote: %w", err)
		}
		return rows.Close()
	}, ports.ReadOnly())
	return qt, err
}

// LinkKind registers quotes as a public link's record type: a link may
// grant "view" and "accept", minting one needs QuotesRead (besides
// links.manage), and only the minting shop's quotes can be linked.
func (q *Quotes) LinkKind() capability.Kind {
	return capability.Kind{
		Type: QuoteRecord, Actions: []string{"view", "accept"}, Permission: QuotesRead,
		Exists: func(ctx context.Context, tx ports.ShopTx, id string) error {
			if _, err := uuid.Parse(id); err != nil {
				return fmt.Errorf("quote %q: %w", id, ports.ErrNotFound)
			}
			return exists(ctx, tx, "quote", `SELECT 1 FROM quotes WHERE shop_id = ? AND id = ?`, id)
		},
	}
}

func customerExists(ctx context.Context, tx ports.ShopTx, id string) error {
	return exists(ctx, tx, "customer", `SELECT 1 FROM customers WHERE shop_id = ? AND id = ?`, id)
}

// exists returns ErrNotFound unless stmt (taking the shop and id) finds a
// row.
func exists(ctx context.Context, tx ports.ShopTx, what, stmt, id string) error {
	rows, err := query(ctx, tx, stmt, tx.ShopID().String(), id)
	if err != nil {
		return fmt.Errorf("find %s: %w", what, err)
	}
	defer rows.Close()
	if rows.Next() {
		return rows.Close()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find %s: %w", what, err)
	}
	return fmt.Errorf("%s %s: %w", what, id, ports.ErrNotFound)
}

// exec and query run a statement written with ? placeholders in tx's
// dialect.
func exec(ctx context.Context, tx ports.ShopTx, stmt string, args ...any) (sql.Result, error) {
	return tx.SQL().ExecContext(ctx, Rebind(tx.SQL().Dialect(), stmt), args...)
}

func query(ctx context.Context, tx ports.ShopTx, stmt string, args ...any) (*sql.Rows, error) {
	return tx.SQL().QueryContext(ctx, Rebind(tx.SQL().Dialect(), stmt), args...)
}

// Rebind turns ? placeholders into $1, $2, ... on Postgres. The app's
// statements hold no ? inside string literals.
func Rebind(dialect, stmt string) string {
	if dialect != ports.DialectPostgres {
		return stmt
	}
	var b strings.Builder
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
