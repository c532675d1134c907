// Command fieldservice is a small field-service app on Stockade: its own
// customers and quotes tables (migrated after Stockade's, walled per
// shop), its own permissions, a quote created with its audit event in one
// unit of work, and a public link per quote. It runs on the embedded
// SQLite store in memory:
//
//	go run ./examples/fieldservice
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fieldservice:", err)
		os.Exit(1)
	}
}

// openSQLite opens the embedded store in memory with the app's migrations
// applied after Stockade's and its tables behind the wall.
func openSQLite(ctx context.Context) (*sqlite.Store, error) {
	m, err := quoting.Migrations(ports.DialectSQLite)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, "sqlite://"+sqlite.Memory,
		sqlite.WithAppMigrations(quoting.SchemaName, m), sqlite.WithAppTables(quoting.Tables()...))
}

// App is the example's wiring: the store, the quote use cases and the
// public-link service that knows quotes.
type App struct {
	Store  ports.Store
	Quotes *quoting.Quotes
	Links  *capability.Service
}

// NewApp wires the use cases over store.
func NewApp(store ports.Store) (App, error) {
	policy, err := quoting.Policy()
	if err != nil {
		return App{}, err
	}
	quotes, err := quoting.NewQuotes(store, policy, nil)
	if err != nil {
		return App{}, err
	}
	links, err := capability.New(capability.Deps{Store: store, Kinds: []capability.Kind{quotes.LinkKind()}, Policy: policy}, capability.Config{})
	if err != nil {
		return App{}, err
	}
	return App{Store: store, Quotes: quotes, Links: links}, nil
}

// World is the seed: one org with two shops and a salesperson in each.
type World struct {
	Bobs, Alices ports.Shop
	Dana, Erin   ports.User // Dana sells for Bob's, Erin for Alice's
}

// Seed creates the world's org, shops, users and memberships.
func Seed(ctx context.Context, store ports.Store) (World, error) {
	var w World
	err := store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Acme Field Services"})
		if err != nil {
			return err
		}
		if w.Bobs, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "bobs-plumbing", Name: "Bob's Plumbing", Status: ports.ShopActive}); err != nil {
			return err
		}
		if w.Alices, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "alices-hvac", Name: "Alice's HVAC", Status: ports.ShopActive}); err != nil {
			return err
		}
		if w.Dana, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "dana@example.com", Name: "Dana"}); err != nil {
			return err
		}
		w.Erin, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "erin@example.com", Name: "Erin"})
		return err
	})
	if err != nil {
		return World{}, err
	}
	for _, m := range []struct {
		shop ports.Shop
		user ports.User
	}{{w.Bobs, w.Dana}, {w.Alices, w.Erin}} {
		err := store.InShop(ctx, m.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, m.user.ID, ports.RoleSales)
			return err
		})
		if err != nil {
			return World{}, err
		}
	}
	return w, nil
}

// As returns ctx acting as user, a Sales member of shop. In a server the
// HTTP layer builds this scope from the session.
func As(ctx context.Context, shop ports.Shop, user ports.User) context.Context {
	return access.With(ctx, access.Scope{Shop: shop.ID, Org: shop.OrgID, User: user.ID, Role: ports.RoleSales})
}

func run(ctx context.Context, out io.Writer) error {
	store, err := openSQLite(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := NewApp(store)
	if err != nil {
		return err
	}
	w, err := Seed(ctx, store)
	if err != nil {
		return err
	}

	dana := As(ctx, w.Bobs, w.Dana)
	cust, err := a.Quotes.AddCustomer(dana, "Mrs. Patel")
	if err != nil {
		return err
	}
	q, err := a.Quotes.Create(dana, quoting.NewQuote{CustomerID: cust.ID, Title: "Replace water heater", Cents: 189900})
	if err != nil {
		return err
	}
	link, err := a.Links.Mint(dana, capability.MintInput{RecordType: quoting.QuoteRecord, RecordID: q.ID, Actions: []string{"view"}})
	if err != nil {
		return err
	}

	// The customer opens the link on Bob's host: the token is the
	// credential, and it reaches this quote only.
	holder, err := a.Links.Resolve(ctx, w.Bobs.ID, link.Token)
	if err != nil {
		return err
	}
	seen, err := a.Quotes.ViewByLink(access.With(ctx, holder), q.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "link shows %q for %d cents\n", seen.Title, seen.Cents)
	if _, err := a.Links.Resolve(ctx, w.Alices.ID, link.Token); err != nil {
		fmt.Fprintf(out, "the link on %s's host: %v\n", w.Alices.Slug, err)
	}

	for _, shop := range []ports.Shop{w.Bobs, w.Alices} {
		err := store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			rows, err := tx.SQL().QueryContext(ctx, `SELECT count(*) FROM quotes`) // no WHERE: the wall keeps it to this shop
			if err != nil {
				return err
			}
			defer rows.Close()
			var n int
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					return err
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			log, err := tx.Audit().List(ctx, ports.AuditQuery{})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d quote(s), %d audit event(s)\n", shop.Slug, n, len(log))
			return nil
		}, ports.ReadOnly())
		if err != nil {
			return err
		}
	}
	return nil
}
