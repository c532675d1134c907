package porttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// matches is the reference meaning of an AuditFilter, applied to events
// read back with List.
func matches(f ports.AuditFilter, e ports.AuditEvent) bool {
	if f.Actor != "" && e.Actor != f.Actor || f.Target != "" && e.Target != f.Target {
		return false
	}
	if prefix, ok := f.ActionPrefix(); ok {
		if !strings.HasPrefix(e.Action, prefix) {
			return false
		}
	} else if f.Action != "" && e.Action != f.Action {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(ports.Timestamp(f.Since)) {
		return false
	}
	return f.Until.IsZero() || e.Time.Before(ports.Timestamp(f.Until))
}

// searchAll follows Search's keyset pages to the end and returns the seqs.
func searchAll(t *testing.T, s ports.Store, shop ports.ShopID, f ports.AuditFilter) []int64 {
	t.Helper()
	var seqs []int64
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "pagination ends")
		var page []ports.AuditEvent
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Audit().Search(ctx, f)
			return err
		}, ports.ReadOnly())
		require.LessOrEqual(t, len(page), f.PageLimit())
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		if len(page) < f.PageLimit() {
			return seqs
		}
		f.Cursor = page[len(page)-1].Seq
	}
}

func testAuditSearch(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shop, other := f.shops[0].ID, f.shops[1].ID
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	actors := []string{"user:ann", "user:bob", "system:cli"}
	actions := []string{"member.role_changed", "member.removed", "membership.added", "shop.renamed", "file.deleted"}
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for i := 0; i < 60; i++ {
			e := event(actions[i%len(actions)])
			e.Actor = actors[i%len(actors)]
			e.Target = fmt.Sprintf("user:%d", i%4)
			e.Time = base.Add(time.Duration(i) * time.Hour)
			if _, err := tx.Audit().Append(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	inShop(t, s, other, func(ctx context.Context, tx ports.ShopTx) error {
		e := event("member.role_changed")
		e.Actor, e.Target, e.Time = "user:ann", "user:0", base.Add(3*time.Hour)
		_, err := tx.Audit().Append(ctx, e)
		return err
	})
	log := auditLog(t, s, shop)
	require.Len(t, log, 60)

	filters := map[string]ports.AuditFilter{
		"all":                  {},
		"actor":                {Actor: "user:bob"},
		"action exact":         {Action: "member.removed"},
		"action prefix":        {Action: "member.*"}, // not membership.added
		"target":               {Target: "user:3"},
		"since":                {Since: base.Add(50 * time.Hour)},
		"until":                {Until: base.Add(7 * time.Hour)},
		"range":                {Since: base.Add(10 * time.Hour), Until: base.Add(20*time.Hour + time.Minute)},
		"all filters":          {Actor: "user:ann", Action: "member.*", Target: "user:0", Since: base, Until: base.Add(100 * time.Hour)},
		"no match":             {Actor: "user:nobody"},
		"prefix of other verb": {Action: "shop.*"},
	}
	for name, flt := range filters {
		for _, limit := range []int{1, 7, 0} {
			for _, newest := range []bool{false, true} {
				flt := flt
				flt.Limit, flt.Newest = limit, newest
				t.Run(fmt.Sprintf("%s/limit=%d/newest=%v", name, limit, newest), func(t *testing.T) {
					var want []int64
					for _, e := range log {
						if matches(flt, e) {
							want = append(want, e.Seq)
						}
					}
					if newest {
						for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
							want[i], want[j] = want[j], want[i]
						}
					}
					assert.Equal(t, want, searchAll(t, s, shop, flt))
				})
			}
		}
	}
	t.Run("prefix excludes a longer word", func(t *testing.T) {
		for _, seq := range searchAll(t, s, shop, ports.AuditFilter{Action: "member.*"}) {
			assert.True(t, strings.HasPrefix(log[seq-1].Action, "member."), log[seq-1].Action)
		}
	})
	t.Run("another shop's events never match", func(t *testing.T) {
		got := searchAll(t, s, other, ports.AuditFilter{Actor: "user:ann"})
		assert.Equal(t, []int64{1}, got, "the other shop sees its own one event")
		inShop(t, s, other, func(ctx context.Context, tx ports.ShopTx) error {
			page, err := tx.Audit().Search(ctx, ports.AuditFilter{})
			require.NoError(t, err)
			require.Len(t, page, 1)
			assert.Equal(t, other, page[0].ShopID)
			return nil
		}, ports.ReadOnly())
	})
	t.Run("outside access", func(t *testing.T) { testAuditSearchOutsideAccess(t, newStore) })
	t.Run("invalid filters", func(t *testing.T) {
		for name, flt := range map[string]ports.AuditFilter{
			"star inside":  {Action: "mem*ber"},
			"bare star":    {Action: "*"},
			"two stars":    {Action: "a.*.*"},
			"range upside": {Since: base.Add(time.Hour), Until: base},
			"neg cursor":   {Cursor: -1},
			"long actor":   {Actor: strings.Repeat("a", 201)},
		} {
			inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Audit().Search(ctx, flt)
				assert.ErrorIs(t, err, ports.ErrInvalid, name)
				return nil
			}, ports.ReadOnly())
		}
	})
}

// outsideAccessCases are the events the access review lists (want) and
// near misses that it must not, written out by hand: the expected set is
// not computed by the code under test (ports.AuditFilter.OutsideAccess
// must agree with audit.AccessKind, which porttest cannot import).
var outsideAccessCases = []struct {
	actor, impersonator, action string
	want                        bool
}{
	{"user:ann", "", "shop.renamed", false}, // a member's own doing
	{"operator:op1", "", "impersonation.start", true},
	{"user:ann", "", "impersonation.ended", true},
	{"user:ann", "", "impersonation", false}, // no dot
	{"user:ann", "", "impersonationx.start", false},
	{"user:ann", "", "IMPERSONATION.start", false}, // case matters
	{"user:ann", "operator:op1", "file.deleted", true},
	{"user:ann", "", "file.deleted", false},
	{"user:bob", "", "hq.access", true},
	{"user:bob", "", "hq.accessed", false},
	{"user:bob", "", "hq_access", false}, // "_" is not a wildcard
	{"user:bob", "", "HQ.access", false},
	{"user:ann", "", "shop.exported", true},
	{"user:ann", "", "shop.exportedx", false},
	{"user:ann", "", "shop_exported", false},
	{"user:ann", "", "shop.erased", true},
	{"user:ann", "", "shop.deleted", true},
	{"user:ann", "", "shop.deletedx", false},
	{"user:ann", "", "retention.purged", true},
	{"user:ann", "", "retention.", true},
	{"user:ann", "", "retentionx", false},
	{"user:ann", "", "retention", false},
	{"user:ann", "", "retention_purged", false},
	{"operator:op1", "", "file.read", true},
	{"operatorx:1", "", "file.read", false},
	{"operator", "", "file.read", false},
	{"operator;1", "", "file.read", false},
	{"operator-1", "", "file.read", false},
	{"Operator:1", "", "file.read", false},
	{"system:housekeeping", "", "session.expired", true},
	{"system", "", "session.expired", true},
	{"systemic", "", "session.expired", false},
	{"system;x", "", "session.expired", false},
	{"systems:1", "", "session.expired", false},
	{"SYSTEM", "", "session.expired", false},
	{"user:system", "", "session.expired", false},
	{"user:ann", "", "member.role_changed", false},
}

// testAuditSearchOutsideAccess: Search with OutsideAccess returns exactly
// the events the access review lists, alone and with the other filters
// and paging, and never another shop's.
func testAuditSearchOutsideAccess(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shop, other := f.shops[0].ID, f.shops[1].ID
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for i, c := range outsideAccessCases {
			e := event(c.action)
			e.Actor, e.Impersonator, e.Time = c.actor, c.impersonator, base.Add(time.Duration(i)*time.Hour)
			if _, err := tx.Audit().Append(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	inShop(t, s, other, func(ctx context.Context, tx ports.ShopTx) error {
		e := event("impersonation.start")
		e.Actor, e.Time = "operator:op1", base
		_, err := tx.Audit().Append(ctx, e)
		return err
	})
	log := auditLog(t, s, shop)
	require.Len(t, log, len(outsideAccessCases))
	outside := map[int64]bool{}
	for i, e := range log {
		require.Equal(t, outsideAccessCases[i].action, e.Action)
		outside[e.Seq] = outsideAccessCases[i].want
	}

	mid := base.Add(time.Duration(len(outsideAccessCases)/2) * time.Hour)
	filters := map[string]ports.AuditFilter{
		"alone":        {OutsideAccess: true},
		"since":        {OutsideAccess: true, Since: mid},
		"until":        {OutsideAccess: true, Until: mid},
		"range":        {OutsideAccess: true, Since: base.Add(5 * time.Hour), Until: base.Add(30 * time.Hour)},
		"actor":        {OutsideAccess: true, Actor: "user:ann"},
		"action":       {OutsideAccess: true, Action: "shop.*"},
		"empty result": {OutsideAccess: true, Actor: "user:nobody"},
	}
	for name, flt := range filters {
		for _, limit := range []int{1, 4, 0} {
			for _, newest := range []bool{false, true} {
				flt := flt
				flt.Limit, flt.Newest = limit, newest
				t.Run(fmt.Sprintf("%s/limit=%d/newest=%v", name, limit, newest), func(t *testing.T) {
					var want []int64
					for _, e := range log {
						if outside[e.Seq] && matches(flt, e) {
							want = append(want, e.Seq)
						}
					}
					if newest {
						for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
							want[i], want[j] = want[j], want[i]
						}
					}
					assert.Equal(t, want, searchAll(t, s, shop, flt))
				})
			}
		}
	}
	t.Run("exactly the listed events", func(t *testing.T) {
		var want, got []string
		for _, c := range outsideAccessCases {
			if c.want {
				want = append(want, c.actor+" "+c.impersonator+" "+c.action)
			}
		}
		for _, seq := range searchAll(t, s, shop, ports.AuditFilter{OutsideAccess: true}) {
			e := log[seq-1]
			got = append(got, e.Actor+" "+e.Impersonator+" "+e.Action)
		}
		assert.Equal(t, want, got)
	})
	t.Run("another shop's events never match", func(t *testing.T) {
		assert.Equal(t, []int64{1}, searchAll(t, s, other, ports.AuditFilter{OutsideAccess: true}))
	})
}
