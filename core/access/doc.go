// Package access is Stockade's server-side guard (TEN-2, TEN-5): the
// caller's Scope carried in context.Context, permissions as typed values,
// the default permission matrix of the five shop roles, and the Policy
// that decides.
//
// Every core use case begins with the guard:
//
//	sc, err := policy.Require(ctx, access.FilesDelete)
//	if err != nil {
//		return err
//	}
//	return store.InShop(ctx, sc.Shop, …)
//
// The shop a use case works in is the scope's, never an argument the
// client could choose. A context without a scope fails closed with
// ports.ErrUnauthenticated; a role without the permission gets
// ports.ErrForbidden; a permission the policy does not know is refused
// like a missing one.
package access
