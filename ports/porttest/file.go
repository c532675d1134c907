package porttest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// newFile returns a valid pending file of shop uploaded by user.
func newFile(shop ports.ShopID, user ports.UserID, kind string) ports.File {
	id := ports.NewFileID()
	return ports.File{
		ID: id, Kind: kind, Name: "Kitchen – before.jpg", ContentType: "image/jpeg", Size: 1234,
		UploadedBy: user, State: ports.FilePending, ObjectKey: "shops/" + shop.String() + "/" + kind + "/" + id.String(),
	}
}

func createFile(t *testing.T, s ports.Store, shop ports.ShopID, f ports.File) ports.File {
	t.Helper()
	var out ports.File
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Files().Create(ctx, f)
		return err
	})
	return out
}

func getFile(s ports.Store, shop ports.ShopID, id ports.FileID) (ports.File, error) {
	var out ports.File
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Files().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	return out, err
}

// markReady marks a file ready under the object key it has (any valid
// key for an unknown file, so that MarkReady itself answers).
func markReady(s ports.Store, shop ports.ShopID, id ports.FileID, size int64, sum []byte) (ports.File, error) {
	var out ports.File
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		key := "files/" + id.String()
		if f, err := tx.Files().Get(ctx, id); err == nil {
			key = f.ObjectKey
		}
		var err error
		out, err = tx.Files().MarkReady(ctx, id, key, size, sum)
		return err
	})
	return out, err
}

// markReadyAt marks a file ready under object key key.
func markReadyAt(s ports.Store, shop ports.ShopID, id ports.FileID, key string, size int64, sum []byte) (ports.File, error) {
	var out ports.File
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Files().MarkReady(ctx, id, key, size, sum)
		return err
	})
	return out, err
}

func listFiles(t *testing.T, s ports.Store, shop ports.ShopID, q ports.FileQuery) []ports.File {
	t.Helper()
	var out []ports.File
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Files().List(ctx, q)
		return err
	}, ports.ReadOnly())
	return out
}

func fileIDs(fs []ports.File) []ports.FileID {
	out := make([]ports.FileID, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func testFiles(t *testing.T, newStore StoreHarness) {
	t.Run("CreateGetMarkReadyDelete", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		before := time.Now().Add(-time.Minute)
		in := newFile(shop, user, "photo")
		in.Encrypted, in.WrappedKey = true, []byte("wrapped-data-key")
		in.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // ignored: the store stamps it
		created := createFile(t, s, shop, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		want := in
		want.CreatedAt = created.CreatedAt
		assert.Equal(t, want, created)
		got, err := getFile(s, shop, in.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "every field round-trips")

		sum := sha256.Sum256([]byte("body"))
		ready, err := markReady(s, shop, in.ID, 4, sum[:])
		require.NoError(t, err)
		want.State, want.Size, want.SHA256 = ports.FileReady, 4, sum[:]
		assert.Equal(t, want, ready, "MarkReady returns the file as stored")
		_, err = markReady(s, shop, in.ID, 4, sum[:])
		require.ErrorIs(t, err, ports.ErrConflict, "a ready file is not pending any more")
		_, err = markReady(s, shop, ports.NewFileID(), 4, sum[:])
		require.ErrorIs(t, err, ports.ErrNotFound)

		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tx.Files().Delete(ctx, in.ID) })
		_, err = getFile(s, shop, in.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error { return tx.Files().Delete(ctx, in.ID) })
		require.ErrorIs(t, err, ports.ErrNotFound, "deleting twice")
	})

	t.Run("ListPagesByCreationWithFilters", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		var all []ports.FileID
		for i := range 5 {
			kind := "photo"
			if i%2 == 1 {
				kind = "document"
			}
			all = append(all, createFile(t, s, shop, newFile(shop, user, kind)).ID)
		}
		sum := sha256.Sum256(nil)
		_, err := markReady(s, shop, all[0], 0, sum[:])
		require.NoError(t, err)

		page1 := listFiles(t, s, shop, ports.FileQuery{Limit: 2})
		page2 := listFiles(t, s, shop, ports.FileQuery{Limit: 2, After: page1[1].ID})
		page3 := listFiles(t, s, shop, ports.FileQuery{Limit: 2, After: page2[1].ID})
		pages := listed(page1, page2, page3)
		assert.ElementsMatch(t, all, fileIDs(pages), "three pages hold every file once")
		assert.Len(t, page3, 1)
		for i := 1; i < len(pages); i++ {
			assert.False(t, pages[i].CreatedAt.Before(pages[i-1].CreatedAt), "ordered by creation")
		}
		assert.Equal(t, []ports.FileID{all[1], all[3]}, fileIDs(listFiles(t, s, shop, ports.FileQuery{Kind: "document"})), "kind filter")
		assert.Equal(t, []ports.FileID{all[0]}, fileIDs(listFiles(t, s, shop, ports.FileQuery{State: ports.FileReady})), "state filter")

		tests := []struct {
			name string
			give ports.FileQuery
			want error
		}{
			{"bad kind", ports.FileQuery{Kind: "Photo/../x"}, ports.ErrInvalid},
			{"bad state", ports.FileQuery{State: "gone"}, ports.ErrInvalid},
			{"unknown cursor", ports.FileQuery{After: ports.NewFileID()}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Files().List(ctx, tt.give)
					return err
				}, ports.ReadOnly())
				require.ErrorIs(t, err, tt.want)
			})
		}
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		tests := []struct {
			name string
			give func(*ports.File)
		}{
			{"zero id", func(f *ports.File) { f.ID = ports.FileID{} }},
			{"no uploader", func(f *ports.File) { f.UploadedBy = ports.UserID{} }},
			{"created ready", func(f *ports.File) { f.State = ports.FileReady }},
			{"negative size", func(f *ports.File) { f.Size = -1 }},
			{"short digest", func(f *ports.File) { f.SHA256 = make([]byte, 31) }},
			{"encrypted without key", func(f *ports.File) { f.Encrypted = true }},
			{"key without encryption", func(f *ports.File) { f.WrappedKey = []byte("k") }},
			{"bad kind", func(f *ports.File) { f.Kind = "../x" }},
			{"empty name", func(f *ports.File) { f.Name = "" }},
			{"name with slash", func(f *ports.File) { f.Name = "a/b.jpg" }},
			{"name with NUL", func(f *ports.File) { f.Name = "a\x00.jpg" }},
			{"bad content type", func(f *ports.File) { f.ContentType = "jpeg" }},
			{"bad object key", func(f *ports.File) { f.ObjectKey = "../etc/passwd" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newFile(shop, user, "photo")
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Files().Create(ctx, give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Empty(t, listFiles(t, s, shop, ports.FileQuery{}), "nothing was written")
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Files().Create(ctx, newFile(shop, ports.NewUserID(), "photo"))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "an unknown uploader")
		taken := createFile(t, s, shop, newFile(shop, user, "photo"))
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Files().Create(ctx, taken)
			return err
		})
		require.ErrorIs(t, err, ports.ErrConflict, "a taken ID")
		_, err = markReady(s, shop, taken.ID, -1, make([]byte, 32))
		require.ErrorIs(t, err, ports.ErrInvalid)
		_, err = markReady(s, shop, taken.ID, 1, make([]byte, 16))
		require.ErrorIs(t, err, ports.ErrInvalid)
		_, err = markReadyAt(s, shop, taken.ID, "../x", 1, make([]byte, 32))
		require.ErrorIs(t, err, ports.ErrInvalid, "a bad object key")
	})

	t.Run("MarkReadyRecordsThePromotedKey", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		a := createFile(t, s, shop, newFile(shop, user, "photo"))
		b := createFile(t, s, shop, newFile(shop, user, "photo"))
		sum := sha256.Sum256([]byte("abc"))
		_, err := markReadyAt(s, shop, a.ID, b.ObjectKey, 3, sum[:])
		require.ErrorIs(t, err, ports.ErrConflict, "another file's object key")
		got, err := getFile(s, shop, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a, got, "a refused MarkReady changes nothing")

		ready, err := markReadyAt(s, shop, a.ID, a.ObjectKey+".promoted", 3, sum[:])
		require.NoError(t, err)
		assert.Equal(t, a.ObjectKey+".promoted", ready.ObjectKey)
		got, err = getFile(s, shop, a.ID)
		require.NoError(t, err)
		assert.Equal(t, ready, got, "the promoted key is stored")
	})

	t.Run("ConcurrentMarkReadySucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		file := createFile(t, s, shop, newFile(shop, user, "photo"))
		const racers = 8
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		sum := sha256.Sum256(nil)
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = markReady(s, shop, file.ID, 0, sum[:])
			})
		}
		close(start)
		wg.Wait()
		var wins, conflicts int
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ports.ErrConflict):
				conflicts++
			}
		}
		assert.Equal(t, 1, wins, "%v", errs)
		assert.Equal(t, racers-1, conflicts, "%v", errs)
	})
}

func listed(pages ...[]ports.File) []ports.File {
	var out []ports.File
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

// testFileTenantBoundary attacks the file repository from shop B with shop
// A's file ID: every method answers ErrNotFound and A's row is untouched.
func testFileTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 1)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	user := f.users[0].ID
	fileA := createFile(t, s, shopA, newFile(shopA, user, "document"))
	sum := sha256.Sum256(nil)
	tests := []struct {
		name string
		do   func(ctx context.Context, r ports.FileRepo) error
	}{
		{"Get", func(ctx context.Context, r ports.FileRepo) error { _, err := r.Get(ctx, fileA.ID); return err }},
		{"MarkReady", func(ctx context.Context, r ports.FileRepo) error {
			_, err := r.MarkReady(ctx, fileA.ID, fileA.ObjectKey, 0, sum[:])
			return err
		}},
		{"Delete", func(ctx context.Context, r ports.FileRepo) error { return r.Delete(ctx, fileA.ID) }},
		{"List after A's file", func(ctx context.Context, r ports.FileRepo) error {
			_, err := r.List(ctx, ports.FileQuery{After: fileA.ID})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
				return tt.do(ctx, tx.Files())
			})
			require.ErrorIs(t, err, ports.ErrNotFound)
		})
	}
	assert.Empty(t, listFiles(t, s, shopB, ports.FileQuery{}), "B lists none of A's files")
	got, err := getFile(s, shopA, fileA.ID)
	require.NoError(t, err)
	assert.Equal(t, fileA, got, "A's file is untouched: still pending, same size")

	t.Run("SameIDInAnotherShopIsAnotherRow", func(t *testing.T) {
		twin := newFile(shopB, user, "document")
		twin.ID = fileA.ID
		createFile(t, s, shopB, twin)
		_, err := markReady(s, shopB, fileA.ID, 0, sum[:])
		require.NoError(t, err)
		got, err := getFile(s, shopA, fileA.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.FilePending, got.State, "B's row with the same ID leaves A's alone")
	})
}
