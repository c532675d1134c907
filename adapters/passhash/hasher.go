package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.PasswordHasher = (*Hasher)(nil)

// Hasher hashes passwords with Argon2id and verifies Argon2id and bcrypt
// hashes, never computing more than its memory budget allows at once. It is
// safe for concurrent use.
type Hasher struct {
	params  Params
	maxWait time.Duration
	// sem is weighted in KiB of Argon2 memory; its size is
	// MaxConcurrent×params.Memory.
	sem      *semaphore.Weighted
	capacity int64
	// inFlight and waiting count the hashes computing and the ones
	// waiting for capacity (see Load).
	inFlight, waiting atomic.Int64
}

// Load is a snapshot of a Hasher's hashing queue.
type Load struct {
	// InFlight is how many hashes (or verifications) are computing now.
	InFlight int64
	// Waiting is how many wait for memory budget to free up.
	Waiting int64
}

// Load returns how many hashes are computing and how many wait for
// capacity, read without locking (each field is exact, the pair is not a
// consistent snapshot). For metrics.
func (h *Hasher) Load() Load {
	return Load{InFlight: h.inFlight.Load(), Waiting: h.waiting.Load()}
}

// New returns a Hasher for cfg, with zero fields defaulted (see Config). It
// returns an error matching ports.ErrInvalid when a parameter is outside the
// bounds: memory in [7168 KiB, MaxMemory] with memory×time at least
// 7168×5 (OWASP's weakest equivalent setting), time ≤ MaxTime, threads ≤
// MaxThreads, salt length in [16, MaxSaltLen], key length in [MinKeyLen,
// MaxKeyLen], MaxConcurrent in [1, 1024], MaxWait in (0, 1 min].
func New(cfg Config) (*Hasher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("passhash: config: %w: %w", ports.ErrInvalid, err)
	}
	capacity := int64(cfg.MaxConcurrent) * int64(cfg.Params.Memory)
	return &Hasher{
		params:   cfg.Params,
		maxWait:  cfg.MaxWait,
		sem:      semaphore.NewWeighted(capacity),
		capacity: capacity,
	}, nil
}

// Params returns the parameters new hashes are made with, defaults applied.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the Argon2id PHC string of password at h.Params() with a
// fresh random salt. The password must be 1 to MaxPasswordBytes bytes
// (ErrInvalid otherwise). It fails with ErrRateLimited when no capacity is
// free within MaxWait, and with ctx's error when ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	// crypto/rand.Read never returns an error; it crashes the program
	// irrecoverably if the system's source fails.
	_, _ = rand.Read(salt)

	weight := h.weight(h.params.Memory)
	if err := h.acquire(ctx, weight); err != nil {
		return "", err
	}
	defer h.release(weight)
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, uint8(p.Threads), p.KeyLen)
	return encodeArgon2id(p, salt, key), nil
}

// Verify reports whether password matches encoded, an Argon2id PHC string
// or a $2a$/$2b$/$2y$ bcrypt string, comparing in constant time. rehash is
// true when it matched and encoded is bcrypt, or Argon2id with any
// parameter other than h.Params(): weaker ones so the hash is strengthened,
// stronger ones so every stored hash costs what the configuration says.
//
// encoded is parsed and bounds-checked first: a malformed, unknown or
// out-of-bounds hash returns an error matching ErrInvalid at once, without
// waiting for capacity or computing anything. A password that is empty or
// longer than MaxPasswordBytes is refused the same way. For bcrypt, only a
// password's first 72 bytes count (see verifyBcrypt). Capacity errors are as
// for Hash.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if err := checkPassword(password); err != nil {
		return false, false, err
	}
	if len(encoded) > maxEncodedLen {
		return false, false, errHash("longer than %d bytes", maxEncodedLen)
	}
	switch {
	case isBcrypt(encoded):
		if _, err := checkBcrypt(encoded); err != nil {
			return false, false, err
		}
		// bcrypt needs 4 KiB but a whole core; it counts as one hash.
		weight := h.weight(h.params.Memory)
		if err := h.acquire(ctx, weight); err != nil {
			return false, false, err
		}
		defer h.release(weight)
		ok, err := verifyBcrypt(password, encoded)
		return ok, ok, err

	default:
		a, err := parseArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		weight := h.weight(a.memory)
		if err := h.acquire(ctx, weight); err != nil {
			return false, false, err
		}
		defer h.release(weight)
		key := argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
		ok := subtle.ConstantTimeCompare(key, a.key) == 1
		return ok, ok && !h.current(a), nil
	}
}

// current reports whether a was made with exactly h's parameters.
func (h *Hasher) current(a argonHash) bool {
	p := h.params
	return a.memory == p.Memory && a.time == p.Time && uint32(a.threads) == p.Threads &&
		uint32(len(a.salt)) == p.SaltLen && uint32(len(a.key)) == p.KeyLen
}

// weight is the share of the semaphore a hash needing memory KiB takes: at
// least one hash at current parameters (so cheap old hashes still count
// against CPU), and at most the whole budget (so a hash larger than the
// budget can still run, alone).
func (h *Hasher) weight(memory uint32) int64 {
	return min(max(int64(memory), int64(h.params.Memory)), h.capacity)
}

// acquire takes weight from the semaphore, waiting at most h.maxWait. It
// returns ctx's error (wrapped) if ctx ends first, including when ctx has
// already ended on entry, and an error matching ErrRateLimited when the
// wait budget runs out.
func (h *Hasher) acquire(ctx context.Context, weight int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("passhash: %w", err)
	}
	if h.sem.TryAcquire(weight) {
		h.inFlight.Add(1)
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, h.maxWait)
	defer cancel()
	h.waiting.Add(1)
	err := h.sem.Acquire(wctx, weight)
	h.waiting.Add(-1)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("passhash: waiting for hashing capacity: %w", cerr)
		}
		return fmt.Errorf("passhash: no hashing capacity within %v: %w", h.maxWait, ports.ErrRateLimited)
	}
	h.inFlight.Add(1)
	return nil
}

// release gives back what acquire took.
func (h *Hasher) release(weight int64) {
	h.inFlight.Add(-1)
	h.sem.Release(weight)
}

// checkPassword refuses passwords Hash and Verify will not process.
func checkPassword(password string) error {
	switch {
	case password == "":
		return ports.Invalid("password", "must not be empty")
	case len(password) > MaxPasswordBytes:
		return ports.Invalid("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes))
	}
	return nil
}
