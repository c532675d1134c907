package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// uploadFile stores a small PDF in the shop with slug through the same
// data directory as the CLI and returns its ID.
func uploadFile(t *testing.T, env []string, slug string) ports.FileID {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	var shop ports.Shop
	var uploader ports.User
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if shop, err = tx.Shops().GetBySlug(ctx, slug); err != nil {
			return err
		}
		uploader, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "uploader@example.com", Name: "Uploader"})
		return err
	}))
	s, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
	require.NoError(t, err)
	defer s.Close()
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("c"), 64)...)
	f, err := s.Service.Upload(access.With(ctx, access.Scope{Shop: shop.ID, User: uploader.ID, Role: ports.RoleOwner}), storage.UploadInput{Kind: "document", Name: "q.pdf", Size: int64(len(pdf)), Body: bytes.NewReader(pdf)})
	require.NoError(t, err)
	return f.ID
}

// TestLinkCommands (CAP-1): link create prints the URL with its token
// once, list shows the link and never a token, revoke ends it, sweep
// deletes expired ones; bad input fails with one readable line and
// writes nothing.
func TestLinkCommands(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "STOCKADE_HTTP_PUBLIC_URL=https://example.com"}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	file := uploadFile(t, env, "acme")

	out, err := runIn(t, env, "", "link", "create", "--shop", "acme", "--record", file.String(), "--ttl", "24h")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^link (\S+) to file (\S+) \(download\), expires .+\nhttps://acme\.example\.com/p/files/(\S+)\?token=([A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	linkID, token := m[1], m[4]
	assert.Equal(t, file.String(), m[2])
	assert.Equal(t, file.String(), m[3])

	out, err = runIn(t, env, "", "link", "list", "--shop", "acme", "--record", file.String())
	require.NoError(t, err)
	assert.Contains(t, out, linkID)
	assert.Contains(t, out, "download")
	assert.NotContains(t, out, token, "a listing never shows a token")

	out, err = runIn(t, env, "", "link", "revoke", "--shop", "acme", "--link", linkID)
	require.NoError(t, err)
	assert.Equal(t, "revoked link "+linkID+"\n", out)
	out, err = runIn(t, env, "", "link", "list", "--shop", "acme", "--record", file.String(), "--active")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "\n"), "no active link left: %s", out)
	_, err = runIn(t, env, "", "link", "revoke", "--shop", "acme", "--link", linkID)
	require.ErrorIs(t, err, ports.ErrNotFound, "revoked once")

	out, err = runIn(t, env, "", "link", "sweep", "--shop", "acme")
	require.NoError(t, err)
	assert.Equal(t, "deleted 0 expired links\n", out, "the revoked link stays listed until it expires")

	tests := []struct {
		name string
		args []string
		want error
	}{
		{"bad ttl", []string{"link", "create", "--shop", "acme", "--record", file.String(), "--ttl", "soon"}, ports.ErrInvalid},
		{"ttl above the maximum", []string{"link", "create", "--shop", "acme", "--record", file.String(), "--ttl", "2400h"}, ports.ErrInvalid},
		{"unknown type", []string{"link", "create", "--shop", "acme", "--type", "quote", "--record", "Q-1", "--actions", "view"}, ports.ErrInvalid},
		{"unknown action", []string{"link", "create", "--shop", "acme", "--record", file.String(), "--actions", "delete"}, ports.ErrInvalid},
		{"not a file", []string{"link", "create", "--shop", "acme", "--record", ports.NewFileID().String()}, ports.ErrNotFound},
		{"unknown shop", []string{"link", "create", "--shop", "nowhere", "--record", file.String()}, ports.ErrNotFound},
		{"bad link id", []string{"link", "revoke", "--shop", "acme", "--link", "x"}, ports.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runIn(t, env, "", tt.args...)
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
	out, err = runIn(t, env, "", "link", "list", "--shop", "acme", "--record", file.String())
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "\n"), "the refused commands minted nothing: %s", out)
}
