// Command plain uses Stockade's store without fx or the server: it opens
// the embedded SQLite store in memory, creates an org with two shops, makes
// a user Owner of one, and shows that the other shop's unit of work cannot
// see that membership.
//
//	go run ./examples/plain
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "plain:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	store, err := sqlite.Open(ctx, "sqlite://"+sqlite.Memory)
	if err != nil {
		return err
	}
	defer store.Close()

	var bobs, alices ports.Shop
	var dana ports.User
	err = store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Acme Field Services"})
		if err != nil {
			return err
		}
		if bobs, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "bobs-plumbing", Name: "Bob's Plumbing", Status: ports.ShopActive}); err != nil {
			return err
		}
		if alices, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "alices-hvac", Name: "Alice's HVAC", Status: ports.ShopActive}); err != nil {
			return err
		}
		dana, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "dana@example.com", Name: "Dana"})
		return err
	})
	if err != nil {
		return err
	}

	// The membership and its audit event commit together or not at all.
	err = store.InShop(ctx, bobs.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Add(ctx, dana.ID, ports.RoleOwner); err != nil {
			return err
		}
		_, err := tx.Audit().Append(ctx, ports.AuditEvent{
			ID: ports.NewEventID(), Time: store.Now(), Actor: "system",
			Action: "membership.added", Target: "user:" + dana.ID.String(), Outcome: ports.OutcomeSuccess,
		})
		return err
	})
	if err != nil {
		return err
	}

	for _, shop := range []ports.Shop{bobs, alices} {
		err := store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			members, err := tx.Memberships().List(ctx)
			if err != nil {
				return err
			}
			log, err := tx.Audit().List(ctx, ports.AuditQuery{})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s: %d member(s), %d audit event(s)\n", shop.Slug, len(members), len(log))
			return nil
		}, ports.ReadOnly())
		if err != nil {
			return err
		}
	}
	return nil
}
