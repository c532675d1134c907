package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// startedStore is the ports.Store that StoreModule provides. The real store
// is opened in an OnStart hook, so building the fx graph does no I/O and
// the start context (its timeout, a signal) bounds connecting and
// migrating; it is closed in OnStop. Before start and after stop every
// method fails with ports.ErrUnavailable.
type startedStore struct {
	mu sync.RWMutex
	st ports.Store
}

var (
	_ ports.Store           = (*startedStore)(nil)
	_ ports.SessionResolver = (*startedStore)(nil)
)

// errNotStarted is returned by a startedStore outside start..stop.
func errNotStarted() error {
	return fmt.Errorf("store is not open (the app is not started): %w", ports.ErrUnavailable)
}

func (s *startedStore) store() (ports.Store, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return nil, errNotStarted()
	}
	return s.st, nil
}

// open opens the store described by cfg with the apps' migrations (see
// OpenStore) and gives up when
// ctx is done, even if a driver ignores ctx while it waits for a server
// that accepted the connection but does not answer: the open then finishes
// in the background and its store, if any, is closed.
func (s *startedStore) open(ctx context.Context, cfg Config, log *zap.Logger, apps ...AppSchema) error {
	type opened struct {
		st  ports.Store
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		st, err := OpenStore(ctx, cfg, log, apps...)
		ch <- opened{st, err}
	}()
	var r opened
	select {
	case r = <-ch:
	case <-ctx.Done():
		go func() {
			if late := <-ch; late.st != nil {
				_ = late.st.Close()
			}
		}()
		return errOpenAbandoned(ctx, cfg)
	}
	if r.err != nil {
		return r.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return errors.Join(errors.New("store opened twice"), r.st.Close())
	}
	s.st = r.st
	return nil
}

// errOpenAbandoned says which settings to check when opening the store did
// not finish in time.
func errOpenAbandoned(ctx context.Context, cfg Config) error {
	setting := "STOCKADE_DATABASE_URL"
	if cfg.Database.MigrateURL != "" {
		setting += " or STOCKADE_DATABASE_MIGRATE_URL"
	}
	return fmt.Errorf("%s: open %s: gave up (%v): %w",
		setting, RedactURL(cfg.DatabaseURL()), context.Cause(ctx), ports.ErrUnavailable)
}

// InShop implements ports.Store.
func (s *startedStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	return st.InShop(ctx, shop, fn, opts...)
}

// Global implements ports.Store.
func (s *startedStore) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	return st.Global(ctx, fn, opts...)
}

// ResolveSession implements ports.SessionResolver with the open store's
// one-round-trip lookup, or through a read-only InShop when the store has
// none.
func (s *startedStore) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	st, err := s.store()
	if err != nil {
		return ports.ResolvedSession{}, err
	}
	if r, ok := st.(ports.SessionResolver); ok {
		return r.ResolveSession(ctx, shop, id)
	}
	return auth.ResolveInShop(ctx, st, shop, id)
}

// Ping implements ports.Store.
func (s *startedStore) Ping(ctx context.Context) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

// Close closes the open store, if any; later calls fail with
// ports.ErrUnavailable.
func (s *startedStore) Close() error {
	s.mu.Lock()
	st := s.st
	s.st = nil
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.Close()
}
