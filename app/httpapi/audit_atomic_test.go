package httpapi_test

// AUD-2: an ordinary change and its audit event commit together or not at
// all. The store below is the real one (SQLite, and Postgres as the
// application role) with one fault: every audit append fails after the
// change's own statements have run in the same unit of work.

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// failAudit is a store whose audit log refuses every append.
type failAudit struct{ ports.Store }

type failAuditTx struct{ ports.ShopTx }

type failAuditRepo struct{ ports.AuditRepo }

var errAuditDown = errors.New("audit log unavailable")

func (s failAudit) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error { return fn(ctx, failAuditTx{tx}) }, opts...)
}

func (t failAuditTx) Audit() ports.AuditRepo { return failAuditRepo{t.ShopTx.Audit()} }

func (failAuditRepo) Append(context.Context, ports.AuditEvent) (ports.AuditEvent, error) {
	return ports.AuditEvent{}, errAuditDown
}

// alphaState is what the changes below touch in alpha.
func alphaState(t *testing.T, w *matrixWorld) (name string, roles map[ports.UserID]ports.Role, invitations, events, sessions int) {
	t.Helper()
	roles = map[ports.UserID]ports.Role{}
	err := w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
		shop, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return err
		}
		name = shop.Name
		ms, err := tx.Memberships().List(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			roles[m.UserID] = m.Role
		}
		invs, err := tx.Invitations().List(ctx, w.clock.Now())
		if err != nil {
			return err
		}
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		if err != nil {
			return err
		}
		ss, err := tx.Sessions().ListByUser(ctx, w.byRole[ports.RoleOwner].ID)
		invitations, events, sessions = len(invs), len(evs), len(ss)
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return name, roles, invitations, events, sessions
}

// TestChangesRollBackWithTheirAuditEvent (AUD-2): settings, role and
// membership changes whose audit append fails leave nothing behind —
// through the use cases and over HTTP.
func TestChangesRollBackWithTheirAuditEvent(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			good := w.api(access.DefaultPolicy())
			bad := w.apiOver(failAudit{w.raw}, access.DefaultPolicy())
			owner := w.byRole[ports.RoleOwner]
			tech := w.byRole[ports.RoleTech]
			ctx := context.Background()
			asOwner := access.With(ctx, access.Scope{Shop: w.alpha.ID, Org: w.alpha.OrgID, User: owner.ID, Role: ports.RoleOwner})
			inAlpha := access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test")
			outsider, err := good.auth.CreateUser(ctx, "outsider@alpha.test", "Outsider", "")
			require.NoError(t, err)
			cookie, _ := w.signIn(good, "alpha", owner.Email)
			w.signIn(good, "alpha", owner.Email) // a second session, for revoke-others
			before := func() []any {
				n, r, i, e, s := alphaState(t, w)
				return []any{n, r, i, e, s}
			}
			want := before()

			changes := map[string]func() error{
				"rename": func() error { _, err := bad.tenancy.Rename(asOwner, "Renamed Without Audit"); return err },
				"change role": func() error {
					_, err := bad.tenancy.ChangeRole(asOwner, tech.ID, ports.RoleAdmin)
					return err
				},
				"add member":    func() error { _, err := bad.tenancy.AddMember(inAlpha, outsider.Email, ports.RoleViewer); return err },
				"remove member": func() error { return bad.tenancy.RemoveMember(asOwner, tech.ID) },
				"invite": func() error {
					_, err := bad.tenancy.Invite(asOwner, tenancy.InviteInput{Email: "new@alpha.test", Role: ports.RoleTech, LinkPrefix: "https://alpha.example.test/i?t="})
					return err
				},
			}
			for name, change := range changes {
				require.ErrorIs(t, change(), errAuditDown, name)
				require.Equal(t, want, before(), "%s: the change must roll back with its audit event", name)
			}

			res := bad.send(http.MethodPatch, "/shop", "alpha", cookie, `{"name":"Renamed Over HTTP"}`, "application/json")
			require.Equal(t, http.StatusInternalServerError, res.StatusCode, readBody(t, res))
			res = bad.send(http.MethodPatch, "/members/"+tech.ID.String(), "alpha", cookie, `{"role":"admin"}`, "application/json")
			require.Equal(t, http.StatusInternalServerError, res.StatusCode, readBody(t, res))
			res = bad.send(http.MethodPost, "/auth/sessions/revoke-others", "alpha", cookie, "", "")
			require.Equal(t, http.StatusInternalServerError, res.StatusCode, readBody(t, res))
			require.Equal(t, want, before(), "over HTTP: nothing changed")

			// The same changes through the healthy store commit with their
			// events: the rollback above was the audit failure's doing.
			_, err = good.tenancy.Rename(asOwner, "Renamed With Audit")
			require.NoError(t, err)
			name, _, _, events, _ := alphaState(t, w)
			require.Equal(t, "Renamed With Audit", name)
			require.Equal(t, want[3].(int)+1, events)
		})
	}
}
