package app_test

import (
	"context"
	"github.com/stockadehq/stockade/core/access"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// TestNewStorageEmbeddedDefault: with nothing configured, storage is local
// files under DataDir with keys generated once (mode 0600) and reused, and
// "all" encrypts a shop's uploads under the local key manager.
func TestNewStorageEmbeddedDefault(t *testing.T) {
	ctx := context.Background()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Storage.Encrypt = "all"
	require.NoError(t, cfg.Validate())
	require.NoError(t, app.PrepareDataDir(cfg))
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })

	s, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NotNil(t, s.Handler, "localfs URLs are served by the server")
	for _, f := range []string{"objects.key", "master.key"} {
		fi, err := os.Stat(filepath.Join(cfg.DataDir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	key, err := os.ReadFile(filepath.Join(cfg.DataDir, "master.key"))
	require.NoError(t, err)

	shop, user := seedShop(t, st)
	ctx = access.With(ctx, access.Scope{Shop: shop, User: user, Role: ports.RoleOwner})
	body := "%PDF-1.7\n" + strings.Repeat("x", 5000)
	f, err := s.Service.Upload(ctx, storage.UploadInput{Kind: "document", Name: "a.pdf", Size: int64(len(body)), Body: strings.NewReader(body)})
	require.NoError(t, err)
	assert.True(t, f.Encrypted)

	again, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
	require.NoError(t, err)
	t.Cleanup(func() { again.Close() })
	key2, err := os.ReadFile(filepath.Join(cfg.DataDir, "master.key"))
	require.NoError(t, err)
	assert.Equal(t, key, key2, "the generated key is kept")
	d, err := again.Service.DownloadURL(ctx, f.ID)
	require.NoError(t, err)
	q, err := url.ParseQuery(d.ContentQuery)
	require.NoError(t, err)
	_, rc, err := again.Service.OpenContent(ctx, shop, f.ID, q)
	require.NoError(t, err, "a restarted server decrypts what the first wrote")
	rc.Close()
}

func seedShop(t *testing.T, st ports.Store) (ports.ShopID, ports.UserID) {
	t.Helper()
	shop, user := ports.NewShopID(), ports.NewUserID()
	require.NoError(t, st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		if _, err := tx.Shops().Create(ctx, ports.Shop{ID: shop, OrgID: org.ID, Slug: "acme", Name: "Acme", Status: ports.ShopActive}); err != nil {
			return err
		}
		_, err = tx.Users().Create(ctx, ports.User{ID: user, Email: "ann@example.com", Name: "Ann"})
		return err
	}))
	return shop, user
}
