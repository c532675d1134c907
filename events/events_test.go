package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stockadehq/stockade/events"
)

// payloads holds one value of every payload struct.
var payloads = []events.Payload{
	events.UserSignedUp{}, events.MemberAdded{}, events.MemberRemoved{}, events.MemberRoleChanged{},
	events.ShopCreated{}, events.ShopRenamed{}, events.ShopSuspended{}, events.ShopReactivated{},
	events.SubscriptionChanged{}, events.ConsentChanged{}, events.InvitationAccepted{}, events.SessionRevoked{},
}

// TestEveryTypeHasOnePayload: Types and the payload structs match one to
// one, and every type is a valid webhook event type (lower-case letters,
// digits, '_', '.', starting with a letter, at most 64 bytes).
func TestEveryTypeHasOnePayload(t *testing.T) {
	byType := map[events.Type]string{}
	for _, p := range payloads {
		name := reflect.TypeOf(p).Name()
		if other, dup := byType[p.EventType()]; dup {
			t.Errorf("%s and %s both claim %q", other, name, p.EventType())
		}
		byType[p.EventType()] = name
	}
	types := events.Types()
	if len(types) != len(byType) {
		t.Errorf("Types() has %d types, the payloads %d", len(types), len(byType))
	}
	for _, typ := range types {
		if _, ok := byType[typ]; !ok {
			t.Errorf("type %q has no payload struct", typ)
		}
		s := string(typ)
		if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_.") != "" {
			t.Errorf("type %q is not a valid webhook event type", typ)
		}
	}
}

// TestPayloadJSONNamesAreSnakeCase: every field of every payload has an
// explicit lower-case JSON name, the documented webhook data.
func TestPayloadJSONNamesAreSnakeCase(t *testing.T) {
	for _, p := range payloads {
		rt := reflect.TypeOf(p)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || strings.ToLower(name) != name || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz_") != "" {
				t.Errorf("%s.%s has JSON name %q, want snake_case", rt.Name(), f.Name, name)
			}
		}
	}
}

func TestSubscriptionChangedOmitsUnknownTimes(t *testing.T) {
	b, err := json.Marshal(events.SubscriptionChanged{Subscription: "sub_1", Status: "active", Price: "price_1", Source: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"subscription":"sub_1","status":"active","previous_status":"","price":"price_1","cancel_at_period_end":false,"source":"webhook"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err = json.Marshal(events.SubscriptionChanged{CurrentPeriodEnd: end, CancelledAt: end})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"current_period_end":"2027-01-01T00:00:00Z"`) || !strings.Contains(string(b), `"cancelled_at":"2027-01-01T00:00:00Z"`) {
		t.Errorf("times missing from %s", b)
	}
}

func TestOnCallsFnForItsPayloadTypeOnly(t *testing.T) {
	var got []events.MemberAdded
	boom := errors.New("boom")
	h := events.On(func(_ context.Context, e events.Event, m events.MemberAdded) error {
		if e.Type != events.TypeMemberAdded {
			t.Errorf("called for %q", e.Type)
		}
		got = append(got, m)
		return boom
	})
	ctx := context.Background()
	if err := h(ctx, events.Event{Type: events.TypeMemberRemoved, Data: events.MemberRemoved{User: "u-1"}}); err != nil {
		t.Errorf("another type: %v", err)
	}
	if err := h(ctx, events.Event{Type: events.TypeMemberAdded, Data: events.MemberAdded{User: "u-2", Role: "tech"}}); !errors.Is(err, boom) {
		t.Errorf("fn's error is not returned: %v", err)
	}
	if want := []events.MemberAdded{{User: "u-2", Role: "tech"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestDocsDescribeEveryTypeAndField: docs/events.md has a section per
// event type ("### `type`") whose table names every JSON field of the
// type's payload, and no section for a type that does not exist.
func TestDocsDescribeEveryTypeAndField(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	parts := strings.Split(string(doc), "\n### `")
	for _, part := range parts[1:] {
		typ, body, _ := strings.Cut(part, "`")
		sections[typ] = body
	}
	for _, p := range payloads {
		typ := string(p.EventType())
		body, ok := sections[typ]
		if !ok {
			t.Errorf("docs/events.md has no section for %s", typ)
			continue
		}
		delete(sections, typ)
		rt := reflect.TypeOf(p)
		for i := 0; i < rt.NumField(); i++ {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(body, "| `"+name+"` |") {
				t.Errorf("docs/events.md, %s: field %q is not described", typ, name)
			}
		}
	}
	for typ := range sections {
		t.Errorf("docs/events.md describes %q, which is no event type", typ)
	}
}
