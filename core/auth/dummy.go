package auth

import (
	"context"
	"crypto/rand"
	"sync"
)

// dummyHash is a hash at the hasher's current parameters of a password
// nobody knows. Verifying against it when an e-mail is unknown makes that
// path cost what a wrong password costs (AUTH-2).
type dummyHash struct {
	hasher interface {
		Hash(ctx context.Context, password string) (string, error)
	}
	mu   sync.Mutex
	hash string
}

// get returns the dummy hash, computing it on first use.
func (d *dummyHash) get(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hash != "" {
		return d.hash, nil
	}
	h, err := d.hasher.Hash(ctx, rand.Text())
	if err != nil {
		return "", err
	}
	d.hash = h
	return h, nil
}
