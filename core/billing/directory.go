package billing

import (
	"context"
	"sync"

	"github.com/stockadehq/stockade/ports"
)

// directoryCacheMax bounds the owners remembered; the cache starts over
// when it is full.
const directoryCacheMax = 10000

// directory remembers which shop a provider customer or Connect account
// belongs to. An entry never goes stale: the billing directory links an
// owner to a shop once and never moves it (BillingRepo.LinkCustomer
// refuses another shop's customer). Misses are not remembered, since an
// unknown customer may be linked a moment later.
type directory struct {
	mu    sync.Mutex
	shops map[string]ports.ShopID
}

func directoryKey(owner string, byAccount bool) string {
	if byAccount {
		return "a:" + owner
	}
	return "c:" + owner
}

func (d *directory) get(key string) (ports.ShopID, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	shop, ok := d.shops[key]
	return shop, ok
}

func (d *directory) put(key string, shop ports.ShopID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shops == nil || len(d.shops) >= directoryCacheMax {
		d.shops = make(map[string]ports.ShopID)
	}
	d.shops[key] = shop
}

// shopOf returns the shop whose customer (or, byAccount, Connect account)
// is owner: from memory after the first lookup, which is one read-only
// global unit of work. ErrNotFound when no shop has it.
func (s *Service) shopOf(ctx context.Context, owner string, byAccount bool) (ports.ShopID, error) {
	key := directoryKey(owner, byAccount)
	if shop, ok := s.directory.get(key); ok {
		return shop, nil
	}
	var shop ports.ShopID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if byAccount {
			shop, err = tx.BillingDirectory().ShopByConnectAccount(ctx, owner)
		} else {
			shop, err = tx.BillingDirectory().ShopByCustomer(ctx, owner)
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.ShopID{}, err
	}
	s.directory.put(key, shop)
	return shop, nil
}
