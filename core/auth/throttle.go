package auth

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Throttle is the brute-force limiter (AUTH-10) for use cases of other
// core packages that must be rate-limited like sign-in: it charges one
// attempt of purpose (e.g. "org_invite") to the counter of who (an
// identifier of the actor, e.g. a user ID; never a secret) with at most
// perWho attempts, and to the client address's counter with at most
// perIP, each per Limits.Window. Over either limit it answers an error
// matching ports.ErrRateLimited and the caller must not proceed; the
// attempt that first crosses a limit is audited as "auth.lockout" in
// shop's log (or logged when shop is zero). Counters are kept in the
// store, so every server instance sees the same counts.
func (s *Service) Throttle(ctx context.Context, shop ports.ShopID, c Client, purpose, who string, perWho, perIP int) error {
	c = c.clean()
	return s.charge(ctx, shop, c, purpose,
		limit{key: purpose + ":by:" + truncate(who, 128), max: perWho, what: "you"},
		ipLimit(purpose, c.IP, perIP))
}
