package passhash

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// current is a valid hash of "password" at the default parameters, made
// once per test that needs it.
func currentHash(t *testing.T, h *Hasher) string {
	t.Helper()
	encoded, err := h.Hash(context.Background(), "password")
	require.NoError(t, err)
	return encoded
}

// fill takes the whole budget, as MaxConcurrent hashes in flight would, and
// returns a function that gives it back.
func fill(t *testing.T, h *Hasher) (release func()) {
	t.Helper()
	require.True(t, h.sem.TryAcquire(h.capacity), "budget starts free")
	return func() { h.sem.Release(h.capacity) }
}

func newLimited(t *testing.T, maxConcurrent int, maxWait time.Duration) *Hasher {
	t.Helper()
	h, err := New(Config{MaxConcurrent: maxConcurrent, MaxWait: maxWait})
	require.NoError(t, err)
	return h
}

func TestBusyHasherRateLimitsAfterMaxWait(t *testing.T) {
	ctx := context.Background()
	h := newLimited(t, 1, time.Millisecond)
	encoded := currentHash(t, h)
	release := fill(t, h)

	_, err := h.Hash(ctx, "password")
	assert.ErrorIs(t, err, ports.ErrRateLimited, "Hash takes a slot")

	_, _, err = h.Verify(ctx, "password", encoded)
	assert.ErrorIs(t, err, ports.ErrRateLimited, "Verify takes a slot")

	_, _, err = h.Verify(ctx, "password", "$2a$04$"+strings.Repeat("a", 53))
	assert.ErrorIs(t, err, ports.ErrRateLimited, "bcrypt Verify takes a slot")

	release()
	ok, _, err := h.Verify(ctx, "password", encoded)
	require.NoError(t, err, "capacity given back is usable again")
	assert.True(t, ok)
}

func TestMalformedHashIsRefusedWithoutWaiting(t *testing.T) {
	h := newLimited(t, 1, time.Minute)
	defer fill(t, h)()

	// With the budget full and a minute to wait, only a refusal that never
	// reaches the semaphore can return at all.
	_, _, err := h.Verify(context.Background(), "password", "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	assert.ErrorIs(t, err, ports.ErrInvalid)
}

func TestContextEndingWhileWaitingWinsOverMaxWait(t *testing.T) {
	h := newLimited(t, 1, time.Minute)
	encoded := currentHash(t, h)
	defer fill(t, h)()

	t.Run("cancelled before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.Hash(ctx, "password")
		assert.ErrorIs(t, err, context.Canceled)
		_, _, err = h.Verify(ctx, "password", encoded)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("cancelled during the wait", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx := newWaitSignal(parent)
		errc := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, "password")
			errc <- err
		}()
		<-ctx.waiting // the call is past the fast path, on its way to block
		cancel()
		err := <-errc
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ports.ErrRateLimited)
	})
	t.Run("deadline shorter than MaxWait", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		_, _, err := h.Verify(ctx, "password", encoded)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, ports.ErrRateLimited)
	})
}

// waitSignal is a context that reports when something first asks for its
// Done channel, which acquire does only once the fast path has failed and
// it is about to wait.
type waitSignal struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitSignal(parent context.Context) *waitSignal {
	return &waitSignal{Context: parent, waiting: make(chan struct{})}
}

func (c *waitSignal) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

func TestCancelledContextIsRefusedEvenWithCapacity(t *testing.T) {
	h := newLimited(t, 1, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(ctx, "password")
	assert.ErrorIs(t, err, context.Canceled)
}

// TestBudgetIsWeightedByMemory: a stored hash needing more memory than the
// current parameters takes a larger share, so it cannot start while part of
// the budget is in use, though a hash at current parameters can.
func TestBudgetIsWeightedByMemory(t *testing.T) {
	ctx := context.Background()
	h := newLimited(t, 2, time.Millisecond)
	encoded := currentHash(t, h)
	// A well-formed hash at 3×19456 KiB; it is never computed here.
	big := "$argon2id$v=19$m=58368,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

	require.True(t, h.sem.TryAcquire(h.weight(h.params.Memory)), "one hash in flight")
	defer h.sem.Release(h.weight(h.params.Memory))

	_, _, err := h.Verify(ctx, "password", big)
	assert.ErrorIs(t, err, ports.ErrRateLimited, "the big hash needs the whole budget")

	ok, _, err := h.Verify(ctx, "password", encoded)
	require.NoError(t, err, "a current hash fits in the free half")
	assert.True(t, ok)
}

func TestWeight(t *testing.T) {
	h := newLimited(t, 4, time.Second)
	m := int64(h.params.Memory)
	tests := []struct {
		name string
		give uint32
		want int64
	}{
		{"weaker hash counts as one", 4096, m},
		{"current hash counts as one", uint32(m), m},
		{"twice the memory counts as two", uint32(2 * m), 2 * m},
		{"larger than the budget takes all of it", MaxMemory, 4 * m},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, h.weight(tt.give))
		})
	}
}

func TestLoadCountsHashesInFlightAndWaiting(t *testing.T) {
	h := newLimited(t, 1, time.Minute)
	assert.Equal(t, Load{}, h.Load(), "an idle hasher")

	w := h.weight(h.params.Memory)
	require.NoError(t, h.acquire(context.Background(), w))
	assert.Equal(t, Load{InFlight: 1}, h.Load(), "one hash holds the budget")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "password")
		done <- err
	}()
	require.Eventually(t, func() bool { return h.Load().Waiting == 1 }, 10*time.Second, time.Millisecond,
		"a second hash waits for the budget")
	assert.Equal(t, int64(1), h.Load().InFlight)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, Load{InFlight: 1}, h.Load(), "the waiter gave up")

	h.release(w)
	assert.Equal(t, Load{}, h.Load(), "released")

	_, err := h.Hash(context.Background(), "password")
	require.NoError(t, err)
	assert.Equal(t, Load{}, h.Load(), "a finished hash is not counted")
}
