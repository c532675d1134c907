package passhash_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stockadehq/stockade/adapters/passhash"
)

// go test -run '^$' -bench . -benchmem ./adapters/passhash

func BenchmarkHash(b *testing.B) {
	ctx := context.Background()
	h := newHasher(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	h := newHasher(b)
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyBcrypt12 measures an imported bcrypt hash at cost 12, a
// common legacy default.
func BenchmarkVerifyBcrypt12(b *testing.B) {
	ctx := context.Background()
	h := newHasher(b)
	encoded, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), 12)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", string(encoded)); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyRefused measures the cost of refusing a planted
// out-of-bounds hash.
func BenchmarkVerifyRefused(b *testing.B) {
	ctx := context.Background()
	h := newHasher(b)
	const planted = "$argon2id$v=19$m=4194304,t=2,p=1$" + refSalt + "$" + refKey
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := h.Verify(ctx, "password", planted); err == nil {
			b.Fatal("planted hash accepted")
		}
	}
}

// BenchmarkHashParallel runs 4×GOMAXPROCS callers against the default
// bound (max(2, GOMAXPROCS) hashes at once); the wait budget is long enough
// that none is refused, so ns/op is throughput under the bound.
func BenchmarkHashParallel(b *testing.B) {
	ctx := context.Background()
	h, err := passhash.New(passhash.Config{MaxWait: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
