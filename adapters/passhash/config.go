package passhash

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// OWASP's recommended Argon2id parameters (Password Storage Cheat Sheet):
// 19 MiB of memory, two passes, one lane. They are the defaults.
const (
	DefaultMemory  = 19456 // KiB
	DefaultTime    = 2
	DefaultThreads = 1
	DefaultSaltLen = 16 // bytes
	DefaultKeyLen  = 32 // bytes
	DefaultMaxWait = 2 * time.Second
)

// Bounds on the Argon2id parameters of any hash this package computes,
// whether made by Hash or read back by Verify. A stored hash beyond them is
// refused, not computed.
const (
	MaxMemory  = 256 * 1024 // KiB: 256 MiB
	MaxTime    = 16
	MaxThreads = 16
	MinSaltLen = 8 // bytes: RFC 9106's minimum; Hash itself uses at least 16
	MaxSaltLen = 64
	MinKeyLen  = 16 // bytes
	MaxKeyLen  = 64

	// MinBcryptCost and MaxBcryptCost bound the bcrypt costs Verify will
	// compute. Go's bcrypt at cost 14 takes about a second of CPU.
	MinBcryptCost = 4
	MaxBcryptCost = 14

	// MaxPasswordBytes is the longest password Hash and Verify accept.
	MaxPasswordBytes = 1024
)

// Floors for the parameters of new hashes, from OWASP's table of equivalent
// Argon2id settings: its weakest row is m=7168 KiB with t=5, so memory must
// be at least 7168 KiB and memory×passes at least 7168×5.
const (
	minNewMemory        = 7168
	minNewMemoryPerPass = 7168 * 5
	minNewSaltLen       = 16
	maxMaxConcurrent    = 1024
	maxMaxWait          = time.Minute
)

// Params are the Argon2id parameters of new hashes. A zero field takes its
// default (DefaultMemory, DefaultTime, …).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint32 // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Config configures a Hasher. The zero Config is OWASP's parameters, a
// concurrency bound of max(2, GOMAXPROCS) hashes and a two-second wait.
type Config struct {
	// Params are the Argon2id parameters for new hashes.
	Params Params
	// MaxConcurrent is how many hashes at Params may be computed at once;
	// memory in use for hashing stays near MaxConcurrent×Params.Memory.
	// 0 means max(2, runtime.GOMAXPROCS(0)).
	MaxConcurrent int
	// MaxWait is how long a call waits for capacity before failing with
	// ports.ErrRateLimited. 0 means DefaultMaxWait.
	MaxWait time.Duration
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	p := &c.Params
	if p.Memory == 0 {
		p.Memory = DefaultMemory
	}
	if p.Time == 0 {
		p.Time = DefaultTime
	}
	if p.Threads == 0 {
		p.Threads = DefaultThreads
	}
	if p.SaltLen == 0 {
		p.SaltLen = DefaultSaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultKeyLen
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = max(2, runtime.GOMAXPROCS(0))
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	return c
}

// validate checks a defaulted Config against the floors and bounds.
func (c Config) validate() error {
	p := c.Params
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Memory < minNewMemory || p.Memory > MaxMemory {
		bad("memory %d KiB outside [%d, %d]", p.Memory, minNewMemory, MaxMemory)
	}
	if p.Time > MaxTime {
		bad("time %d above %d", p.Time, MaxTime)
	}
	if uint64(p.Memory)*uint64(p.Time) < minNewMemoryPerPass {
		bad("memory×time %d below OWASP's floor %d", uint64(p.Memory)*uint64(p.Time), minNewMemoryPerPass)
	}
	if p.Threads > MaxThreads {
		bad("threads %d above %d", p.Threads, MaxThreads)
	}
	if p.SaltLen < minNewSaltLen || p.SaltLen > MaxSaltLen {
		bad("salt length %d outside [%d, %d]", p.SaltLen, minNewSaltLen, MaxSaltLen)
	}
	if p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen {
		bad("key length %d outside [%d, %d]", p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	if c.MaxConcurrent < 1 || c.MaxConcurrent > maxMaxConcurrent {
		bad("max concurrent %d outside [1, %d]", c.MaxConcurrent, maxMaxConcurrent)
	}
	if c.MaxWait < 0 || c.MaxWait > maxMaxWait {
		bad("max wait %v outside (0, %v]", c.MaxWait, maxMaxWait)
	}
	return errors.Join(errs...)
}
