package capability

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// TokenLen is the length of a link token: 32 bytes in unpadded base64url.
const TokenLen = 43

// Resolve checks a link token presented on shop's host and returns the
// scope of its holder (see access.CapabilityScope): the capability's
// record and actions, in shop. It needs no caller scope — the token is the
// credential. The token is looked up by its SHA-256 inside shop's own
// read-only unit of work, so a token of another shop is unknown here.
// Every refusal — malformed, tampered, unknown, expired, revoked, another
// shop's — is access.ErrNoCapability, before or after one indexed lookup;
// a store failure is returned as it is (ErrUnavailable, …).
func (s *Service) Resolve(ctx context.Context, shop ports.ShopID, token string) (access.Scope, error) {
	hash, ok := parseToken(token)
	if !ok || shop.IsZero() {
		return access.Scope{}, access.ErrNoCapability
	}
	var c ports.Capability
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		c, err = tx.Capabilities().Active(ctx, hash, s.clock.Now())
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return access.Scope{}, access.ErrNoCapability
	case err != nil:
		return access.Scope{}, fmt.Errorf("resolve link: %w", err)
	case subtle.ConstantTimeCompare(c.TokenHash, hash) != 1:
		// The store looked the hash up by equality; this is the second
		// wall should an adapter ever match loosely.
		return access.Scope{}, access.ErrNoCapability
	}
	return access.CapabilityScope(access.Capability{
		ID: c.ID, Shop: shop, RecordType: c.RecordType, RecordID: c.RecordID, Actions: c.Actions, ExpiresAt: c.ExpiresAt,
	}), nil
}

// newToken returns a fresh 256-bit token, base64url without padding, and
// its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), sum[:]
}

// parseToken returns the SHA-256 of a well-formed token: exactly TokenLen
// characters of unpadded base64url decoding to 32 bytes. The strict
// decoder refuses non-canonical trailing bits, so one token has one
// spelling.
func parseToken(token string) ([]byte, bool) {
	if len(token) != TokenLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != 32 {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}

func jsonCount(n int) (json.RawMessage, error) {
	return json.Marshal(map[string]int{"deleted": n})
}
