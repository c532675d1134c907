package events_test

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/events"
)

// A hook that greets new members. Register it with app.EventHook(hook)
// under fx, or in app.EventsParts.Hooks without fx; Stockade calls it
// after the unit of work that added the member has committed.
func ExampleOn() {
	hook := events.On(func(ctx context.Context, e events.Event, m events.MemberAdded) error {
		fmt.Printf("welcome %s, %s of shop %s (%s)\n", m.User, m.Role, e.Shop, m.Via)
		return nil
	})

	// What Stockade does after AddMember commits:
	_ = hook(context.Background(), events.Event{
		Type: events.TypeMemberAdded, Shop: "shop-1",
		Data: events.MemberAdded{User: "user-7", Role: "tech", Via: "direct"},
	})
	// Other events pass by.
	_ = hook(context.Background(), events.Event{Type: events.TypeShopRenamed, Shop: "shop-1", Data: events.ShopRenamed{Name: "B"}})
	// Output: welcome user-7, tech of shop shop-1 (direct)
}
