package app

import (
	"runtime"
)

// MemoryHeadroom is what MemoryLimit allows beyond the password hasher's
// budget: the server's working set under load (connections, buffers,
// caches) measured well below it.
const MemoryHeadroom = 64 << 20

// MemoryLimit is the soft memory limit `stockade serve` gives the Go
// runtime (runtime/debug.SetMemoryLimit) unless GOMEMLIMIT is set: the
// password hasher's budget — hashes computing at once × Argon2 memory —
// plus MemoryHeadroom. Each Argon2id hash allocates its memory afresh, so
// without a limit the collector lets freed hash blocks pile up to twice
// the live heap before it runs; with it, resident memory during a burst
// of sign-ins stays near the budget. The limit is soft: above it the
// runtime collects more often, it never fails an allocation.
func MemoryLimit(cfg Config) int64 {
	hashes := cfg.Auth.MaxConcurrentHashes
	if hashes <= 0 {
		hashes = max(2, runtime.GOMAXPROCS(0)) // passhash's default bound
	}
	return int64(hashes)*int64(cfg.Auth.Argon2MemoryKiB)<<10 + MemoryHeadroom
}
