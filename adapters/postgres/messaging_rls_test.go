package postgres_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestMessagingRowLevelSecurity attacks the messaging tables with raw SQL
// as the application role: statements without WHERE see and touch the
// current shop's rows only, rows naming another shop are refused (42501),
// no tenant sees nothing, the maintenance flag opens nothing to the role,
// and the three cross-shop functions hand out what they promise and no
// more (the lookups a shop ID only).
func TestMessagingRowLevelSecurity(t *testing.T) {
	s, pg := fresh(t)
	a, b := twoShops(t, s)
	ctx := context.Background()
	contacts := map[ports.ShopID]ports.ContactID{}
	for i, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			c, err := tx.Consent().CreateContact(ctx, ports.Contact{ID: ports.NewContactID(), Phone: "+15551230001", Email: "ann@example.com"})
			if err != nil {
				return err
			}
			contacts[shop] = c.ID
			if _, _, err := tx.Consent().SetConsent(ctx, ports.Consent{Contact: c.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword}); err != nil {
				return err
			}
			id := ports.NewMessageID()
			if _, err := tx.Outbox().Enqueue(ctx, ports.OutboxMessage{ID: id, Contact: c.ID, Channel: ports.ChannelSMS, Category: ports.CategoryMarketing,
				SMS: ports.SMS{MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", To: c.Phone, Body: "secret offer", IdempotencyKey: id.String()}}); err != nil {
				return err
			}
			if err := tx.Outbox().RecordEvent(ctx, "twilio", "SM1"); err != nil {
				return err
			}
			_, err = tx.MessagingSettings().Save(ctx, ports.MessagingSettings{MessagingServiceSID: []string{"MGalpha", "MGbravo"}[i], HelpText: "secret help"})
			return err
		}))
	}
	db := s.DB()
	tables := []string{"messaging_contacts", "messaging_consent", "outbox_messages", "messaging_events", "messaging_settings"}
	count := func(t *testing.T, q sqlx.Queryer, table string, shop ports.ShopID) int {
		t.Helper()
		var n int
		require.NoError(t, sqlx.Get(q, &n, `SELECT count(*) FROM `+table+` WHERE shop_id = $1`, shop.String()))
		return n
	}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, table := range tables {
				var shops []string
				require.NoError(t, tx.Select(&shops, `SELECT DISTINCT shop_id::text FROM `+table))
				assert.Equal(t, []string{a.String()}, shops, table)
			}
		})
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		for _, table := range tables {
			var n int
			require.NoError(t, db.Get(&n, `SELECT count(*) FROM `+table))
			assert.Zero(t, n, table)
		}
	})

	t.Run("WritesNamingAnotherShopAreRejected", func(t *testing.T) {
		for _, stmt := range []string{
			`INSERT INTO messaging_contacts (shop_id, id, phone, created_at, updated_at) VALUES ($1, gen_random_uuid(), '+15559990000', now(), now())`,
			`INSERT INTO messaging_events (shop_id, provider, event_id, received_at) VALUES ($1, 'twilio', 'SMforged', now())`,
			`INSERT INTO messaging_settings (shop_id, help_text, updated_at) VALUES ($1, 'x', now()) ON CONFLICT DO NOTHING`,
			`UPDATE messaging_contacts SET shop_id = $1`,
			`UPDATE outbox_messages SET shop_id = $1`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt, b.String())
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "%s: %v", stmt, err)
			})
		}
	})

	t.Run("UpdatesAndDeletesOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, stmt := range []string{
				`UPDATE messaging_consent SET opted_out = false WHERE shop_id = $1`,
				`DELETE FROM messaging_consent WHERE shop_id = $1`,
				`UPDATE outbox_messages SET state = 'cancelled' WHERE shop_id = $1`,
				`UPDATE messaging_settings SET messaging_service_sid = 'MGstolen' WHERE shop_id = $1`,
				`DELETE FROM messaging_events WHERE shop_id = $1`,
			} {
				res, err := tx.Exec(stmt, b.String())
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			}
		})
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			cs, err := tx.Consent().Consent(ctx, contacts[b])
			require.NoError(t, err)
			require.Len(t, cs, 1)
			assert.True(t, cs[0].OptedOut, "B's opt-out stands")
			st, err := tx.MessagingSettings().Get(ctx)
			require.NoError(t, err)
			assert.Equal(t, "MGbravo", st.MessagingServiceSID)
			return nil
		}, ports.ReadOnly()))
	})

	t.Run("TheMaintenanceFlagGivesTheAppRoleNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`SELECT set_config('app.messaging_maintenance', 'on', true)`)
			require.NoError(t, err)
			assert.Zero(t, count(t, tx, "outbox_messages", b))
			assert.Zero(t, count(t, tx, "messaging_settings", b))
		})
	})

	t.Run("LookupsReturnAShopIDOnly", func(t *testing.T) {
		var shop string
		require.NoError(t, db.Get(&shop, `SELECT stockade_messaging_shop_by_service('MGbravo')`))
		assert.Equal(t, b.String(), shop)
		var none *string
		require.NoError(t, db.Get(&none, `SELECT stockade_messaging_shop_by_service('MGnone')`))
		assert.Nil(t, none)
		var flag string
		require.NoError(t, db.Get(&flag, `SELECT current_setting('app.messaging_maintenance', true)`))
		assert.Empty(t, flag)
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM (SELECT stockade_messaging_shop_by_service('MGbravo')) x`))
			assert.Equal(t, 1, n)
			assert.Zero(t, count(t, tx, "messaging_settings", b), "after the lookup the role still sees A only")
		})
	})

	t.Run("ClaimHandsOutEveryShopsMessagesAndClosesBehindIt", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var got []string
			require.NoError(t, tx.Select(&got, `SELECT shop_id::text FROM stockade_claim_outbox(now() + interval '1 hour', 10, interval '1 minute', now())`))
			assert.ElementsMatch(t, []string{a.String(), b.String()}, got)
			var flag string
			require.NoError(t, tx.Get(&flag, `SELECT current_setting('app.messaging_maintenance', true)`))
			assert.Empty(t, flag, "the function turns its flag off before it returns")
			assert.Zero(t, count(t, tx, "outbox_messages", b))
		})
	})

	t.Run("FunctionsAreTheOwnersAndOnlyTheAppRoleMayCallThem", func(t *testing.T) {
		super := sqlx.MustConnect("pgx", pg.SuperURL)
		defer super.Close()
		for _, name := range []string{"stockade_claim_outbox", "stockade_messaging_shop_by_service", "stockade_messaging_shop_by_provider"} {
			var fn struct {
				Owner   string `db:"owner"`
				Definer bool   `db:"prosecdef"`
				Config  string `db:"config"`
				Public  bool   `db:"public_exec"`
				App     bool   `db:"app_exec"`
			}
			require.NoError(t, super.Get(&fn, `SELECT pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
				array_to_string(p.proconfig, ',') AS config,
				EXISTS (SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_exec,
				has_function_privilege($1, p.oid, 'EXECUTE') AS app_exec
				FROM pg_proc p WHERE p.proname = $2`, pg.AppRole, name))
			assert.Equal(t, pg.OwnerRole, fn.Owner, name)
			assert.True(t, fn.Definer, name)
			assert.Contains(t, fn.Config, "search_path=pg_catalog, public, pg_temp", name)
			assert.False(t, fn.Public, "%s: EXECUTE is revoked from PUBLIC", name)
			assert.True(t, fn.App, name)
		}
	})

	t.Run("OwnerOutsideTheFunctionsIsStillBound", func(t *testing.T) {
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		tx := owner.MustBegin()
		defer tx.Rollback()
		_, err := tx.Exec(`SELECT set_config('app.messaging_maintenance', 'on', true)`)
		require.NoError(t, err)
		// The flag alone opens the maintenance policy to the owner; what
		// keeps it shut is that only the functions set it, inside their
		// own transaction-local scope. Without the flag, the owner sees
		// nothing.
		_, err = tx.Exec(`SELECT set_config('app.messaging_maintenance', '', true)`)
		require.NoError(t, err)
		for _, table := range tables {
			assert.Zero(t, count(t, tx, table, a), table)
		}
	})
}
