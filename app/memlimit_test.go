package app_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/app"
)

func TestMemoryLimitIsTheHashingBudgetPlusHeadroom(t *testing.T) {
	cfg := app.Default()
	cfg.Auth.Argon2MemoryKiB = 19456
	cfg.Auth.MaxConcurrentHashes = 3
	assert.Equal(t, int64(3*19456<<10+64<<20), app.MemoryLimit(cfg))

	cfg.Auth.MaxConcurrentHashes = 0 // the hasher's default bound
	assert.Equal(t, int64(max(2, runtime.GOMAXPROCS(0)))*19456<<10+64<<20, app.MemoryLimit(cfg))
}
