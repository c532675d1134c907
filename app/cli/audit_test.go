package cli_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// appendEvents appends n audit events to the shop with slug, through a
// store opened on the CLI's configuration.
func appendEvents(t *testing.T, env []string, slug string, n int) ports.ShopID {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	var shop ports.Shop
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}))
	require.NoError(t, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for i := range n {
			if _, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "user:1", Action: fmt.Sprintf("x.%d", i), Outcome: ports.OutcomeSuccess}); err != nil {
				return err
			}
		}
		return nil
	}))
	return shop.ID
}

func TestAuditCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"STOCKADE_DATA_DIR=" + dir}

	out, err := runIn(t, env, "", "audit", "verify")
	require.NoError(t, err, "no shops, nothing to verify")
	assert.Empty(t, out)

	vkey, err := runIn(t, env, "", "audit", "public-key")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(vkey, app.AuditKeyName+"+"), vkey)
	fi, err := os.Stat(filepath.Join(dir, "audit.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the signing key is private")
	again, err := runIn(t, env, "", "audit", "public-key")
	require.NoError(t, err)
	assert.Equal(t, vkey, again, "the key is made once")

	for _, slug := range []string{"acme", "bravo"} {
		_, err = runIn(t, env, "", "shop", "create", "--slug", slug, "--name", slug)
		require.NoError(t, err)
	}
	acme := appendEvents(t, env, "acme", 3)
	out, err = runIn(t, env, "", "audit", "checkpoint", "--shop", "acme")
	require.NoError(t, err)
	head := strings.TrimSuffix(strings.TrimPrefix(out, "acme: checkpoint 1 at seq "), "\n")
	assert.Regexp(t, `^acme: checkpoint 1 at seq \d+\n$`, out)

	out, err = runIn(t, env, "", "audit", "checkpoint", "--shop", "acme")
	require.NoError(t, err)
	assert.Equal(t, "acme: checkpoint 1 at seq "+head+" (unchanged)\n", out)

	appendEvents(t, env, "acme", 2)
	out, err = runIn(t, env, "", "audit", "checkpoint", "--note")
	require.NoError(t, err)
	lines := strings.Split(out, "\n")
	assert.Regexp(t, `^acme: checkpoint 2 at seq \d+$`, lines[0])
	assert.Equal(t, audit.Origin(acme), lines[1], "--note prints the signed note")
	assert.Contains(t, out, "\n— "+app.AuditKeyName+" ")
	assert.Contains(t, out, "\nbravo: ", "every shop when --shop is left out")

	out, err = runIn(t, env, "", "audit", "verify")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^acme: ok; \d+ events; checkpoint 2 at seq \d+$`, out)
	assert.Regexp(t, `(?m)^bravo: ok; `, out)

	t.Run("VerifierKeyFlag", func(t *testing.T) {
		_, err := runIn(t, env, "", "audit", "verify", "--verifier-key", strings.TrimSpace(vkey))
		require.NoError(t, err, "an auditor with the public key only")
		_, otherKey, err := note.GenerateKey(rand.Reader, app.AuditKeyName)
		require.NoError(t, err)
		_, err = runIn(t, env, "", "audit", "verify", "--shop", "acme", "--verifier-key", otherKey)
		require.ErrorIs(t, err, audit.ErrTampered, "checkpoints not signed by the given key")
		assert.Contains(t, err.Error(), "shop acme: seq ")
		assert.Contains(t, err.Error(), ": bad-signature: checkpoint 1: not signed by a known key")
		_, err = runIn(t, env, "", "audit", "verify", "--verifier-key", "nonsense")
		require.ErrorIs(t, err, ports.ErrInvalid)
	})

	t.Run("UnknownShop", func(t *testing.T) {
		_, err := runIn(t, env, "", "audit", "verify", "--shop", "nowhere")
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = runIn(t, env, "", "audit", "checkpoint", "--shop", "nowhere")
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("BrokenKeyFile", func(t *testing.T) {
		env := []string{"STOCKADE_DATA_DIR=" + t.TempDir()}
		_, err := runIn(t, env, "", "audit", "public-key")
		require.NoError(t, err)
		path := filepath.Join(env[0][len("STOCKADE_DATA_DIR="):], "audit.key")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		skey, _, _ := strings.Cut(string(b), "\n")
		_, otherV, err := note.GenerateKey(rand.Reader, app.AuditKeyName)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, []byte(skey+"\n"+otherV+"\n"), 0o600))
		_, err = runIn(t, env, "", "audit", "checkpoint")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 2 is not the verifier key of line 1")
		assert.NotContains(t, err.Error(), "PRIVATE", "errors never show the key")
	})
}

// listing describes every file under dir: its path, mode and size.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		size := fi.Size()
		if fi.IsDir() {
			size = 0
		}
		out = append(out, fmt.Sprintf("%s %v %d", rel, fi.Mode(), size))
		return nil
	}))
	return out
}

// TestAuditVerifyOnlyReadsKeys (issue 16, 3): verify reads the key file and
// never creates one. Without a key it checks the chains, and leaves the
// data directory as it found it; it reports a shop with checkpoints as
// unverifiable for want of a key, never as tampered.
func TestAuditVerifyOnlyReadsKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"STOCKADE_DATA_DIR=" + dir}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	appendEvents(t, env, "acme", 3)
	keyFile := filepath.Join(dir, "audit.key")
	require.NoFileExists(t, keyFile)

	before := listing(t, dir)
	out, err := runIn(t, env, "", "audit", "verify")
	require.NoError(t, err)
	assert.Regexp(t, `^acme: ok; \d+ events; no checkpoint\n$`, out)
	assert.NoFileExists(t, keyFile, "verification only reads keys")
	assert.Equal(t, before, listing(t, dir), "the data directory is unchanged")

	t.Run("CheckpointsWithoutTheKey", func(t *testing.T) {
		_, err := runIn(t, env, "", "audit", "checkpoint")
		require.NoError(t, err)
		require.NoError(t, os.Rename(keyFile, filepath.Join(t.TempDir(), "audit.key")))
		before := listing(t, dir)
		out, err := runIn(t, env, "", "audit", "verify")
		require.Error(t, err)
		assert.NotErrorIs(t, err, audit.ErrTampered, "a missing key is not tampering")
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Contains(t, err.Error(), keyFile, "the error names the missing key file")
		assert.Contains(t, err.Error(), "--verifier-key", "and the way out")
		assert.NotContains(t, out, "TAMPERED")
		assert.Contains(t, out, "acme: ")
		assert.NoFileExists(t, keyFile, "no new key")
		assert.Equal(t, before, listing(t, dir), "the data directory is unchanged")
	})
}
