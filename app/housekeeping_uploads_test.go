package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// objectBackend opens a fresh object store; dir is the localfs directory
// ("" for S3).
type objectBackend struct {
	name string
	open func(t testing.TB) (st ports.ObjectStore, dir string)
}

var objectBackends = []objectBackend{
	{"localfs", func(t testing.TB) (ports.ObjectStore, string) {
		dir := t.TempDir()
		st, err := localfs.Open(dir, localfs.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st, dir
	}},
	{"minio", func(t testing.TB) (ports.ObjectStore, string) {
		m := testinfra.StartMinIO(t)
		st, err := s3.Open(context.Background(), s3.Config{
			Bucket: "sweep-" + strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36)), Endpoint: m.Endpoint, Region: m.Region,
			PathStyle: true, Insecure: true, CreateBucket: true, AccessKey: m.AccessKey, SecretKey: s3.Secret(m.SecretKey),
		})
		require.NoError(t, err)
		return st, ""
	}},
}

// TestHousekeepingSweepsUnfinishedUploads is the low item of issue 16
// (pending uploads and crashed writes are never swept), on SQLite and on
// Postgres as the application role, each with localfs and MinIO. Each
// shop has a pending upload that was never finalized, with what it may
// have left (the staging object its signed PUT wrote, an object, a copy a
// cut-off Finalize made), and a ready file with a staging object a PUT
// through its old URL left after Finalize; localfs also has the temporary
// file of a crashed write. Within the grace period a pass deletes none of
// it; after it, a pass deletes the pending rows and every one of those
// objects, audits the counts in each shop, and keeps the ready file and
// its object.
func TestHousekeepingSweepsUnfinishedUploads(t *testing.T) {
	for _, b := range jobBackends {
		for _, ob := range objectBackends {
			t.Run(b.name+"+"+ob.name, func(t *testing.T) {
				st, _ := b.open(t)
				objects, dir := ob.open(t)
				ctx := context.Background()
				now := time.Now()
				tenants := seedTenants(t, st, 2)
				type shopObjects struct {
					ready     ports.File
					readyBody []byte
					stale     []string // keys the sweep must delete
				}
				var seeded []shopObjects
				put := func(key string, body []byte) {
					require.NoError(t, objects.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "image/jpeg"))
				}
				for _, tn := range tenants {
					var so shopObjects
					pendingKey := storage.ObjectKey(tn.shop, "photo", tn.file)
					so.stale = []string{storage.StagingKey(tn.shop, tn.file), pendingKey, pendingKey + ".CUTOFFCOPY"}
					for _, k := range so.stale {
						put(k, []byte("unfinished "+k))
					}
					so.readyBody = []byte("a checked photo")
					id := ports.NewFileID()
					so.ready = ports.File{ID: id, Kind: "photo", Name: "ok.jpg", ContentType: "image/jpeg", UploadedBy: tn.user,
						State: ports.FilePending, ObjectKey: storage.ObjectKey(tn.shop, "photo", id)}
					sum := sha256.Sum256(so.readyBody)
					require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
						if _, err := tx.Files().Create(ctx, so.ready); err != nil {
							return err
						}
						var err error
						so.ready, err = tx.Files().MarkReady(ctx, id, so.ready.ObjectKey+".PROMOTED", int64(len(so.readyBody)), sum[:])
						return err
					}))
					put(so.ready.ObjectKey, so.readyBody)
					swapped := storage.StagingKey(tn.shop, id) // PUT through the old URL after Finalize
					put(swapped, []byte("<html>"))
					so.stale = append(so.stale, swapped)
					seeded = append(seeded, so)
				}
				var tmp string
				if dir != "" {
					tmp = filepath.Join(dir, "shops.d", "~CRASHEDWRITE.tmp")
					require.NoError(t, os.WriteFile(tmp, []byte("half a body"), 0o600))
				}

				lister := st.(ports.AuditShopLister)
				sweep := func(at time.Time) housekeeping.Report {
					sw, err := housekeeping.New(housekeeping.Deps{Store: st, Shops: lister, Objects: objects, Clock: fixedClock(at)}, housekeeping.Config{})
					require.NoError(t, err)
					rep, err := sw.Sweep(ctx)
					require.NoError(t, err)
					return rep
				}
				exists := func(key string) bool {
					_, err := objects.Stat(ctx, key)
					if err != nil {
						require.ErrorIs(t, err, ports.ErrNotFound)
					}
					return err == nil
				}
				pendingRows := func(shop ports.ShopID) int {
					var n int
					require.NoError(t, st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
						fs, err := tx.Files().List(ctx, ports.FileQuery{State: ports.FilePending})
						n = len(fs)
						return err
					}, ports.ReadOnly()))
					return n
				}

				// Within the grace period (24 hours by default): nothing.
				rep := sweep(now.Add(23 * time.Hour))
				assert.Zero(t, rep.PendingUploads+rep.StagingObjects+rep.PartialObjects, "%+v", rep)
				for i, tn := range tenants {
					assert.Equal(t, 1, pendingRows(tn.shop))
					for _, k := range seeded[i].stale {
						assert.True(t, exists(k), "kept within the grace period: %s", k)
					}
				}
				if tmp != "" {
					assert.FileExists(t, tmp, "a temporary file within the grace period may be a write in progress")
				}

				// After it: the unfinished uploads are gone, the ready file is not.
				rep = sweep(now.Add(25 * time.Hour))
				assert.Equal(t, len(tenants), rep.PendingUploads, "%+v", rep)
				assert.Equal(t, 2*len(tenants), rep.StagingObjects, "%+v", rep)
				for i, tn := range tenants {
					so := seeded[i]
					assert.Zero(t, pendingRows(tn.shop))
					for _, k := range so.stale {
						assert.False(t, exists(k), "swept: %s", k)
					}
					require.NoError(t, st.InShop(ctx, tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
						f, err := tx.Files().Get(ctx, so.ready.ID)
						require.NoError(t, err, "the ready file is kept")
						assert.Equal(t, ports.FileReady, f.State)
						events, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 100})
						require.NoError(t, err)
						last := events[len(events)-1]
						assert.Equal(t, "housekeeping.swept", last.Action)
						var counts map[string]int
						require.NoError(t, json.Unmarshal(last.After, &counts))
						assert.Equal(t, 1, counts["pending_uploads"], "audited: %s", last.After)
						assert.Equal(t, 2, counts["staging_objects"], "audited: %s", last.After)
						return nil
					}, ports.ReadOnly()))
					rc, _, err := objects.Get(ctx, so.ready.ObjectKey, 0, -1)
					require.NoError(t, err, "the ready file's object is kept")
					got := new(bytes.Buffer)
					_, err = got.ReadFrom(rc)
					require.NoError(t, err)
					require.NoError(t, rc.Close())
					assert.Equal(t, so.readyBody, got.Bytes())
				}
				if tmp != "" {
					assert.Equal(t, 1, rep.PartialObjects)
					assert.NoFileExists(t, tmp, "the crashed write's temporary file is swept")
				}

				rep = sweep(now.Add(26 * time.Hour))
				assert.Zero(t, rep.PendingUploads+rep.StagingObjects+rep.PartialObjects, "a second pass finds nothing: %+v", rep)
			})
		}
	}
}
