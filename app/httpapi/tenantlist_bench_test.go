package httpapi_test

// Issue 5, acceptance 5: the price of the secure path. A tenant-scoped
// list of 50 rows through the HTTP API (session cookie → principal →
// scope → guard → InShop under RLS as the application role) against a
// bare net/http handler running the same SELECT with plain sqlx as the
// superuser, both over loopback TCP on Postgres. Run:
//
//	go test ./app/httpapi -run '^$' -bench 'BenchmarkTenantList' -count 6 | tee out.txt && benchstat -col /path out.txt

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

func BenchmarkTenantList(b *testing.B) {
	h := newFileHarness(b, rowsOnPostgres())
	for i := 0; i < 50; i++ {
		h.uploaded(h.tomCookie, "photo", "a.png", pngBytes(200))
	}
	srv := h.serveTCP(b)

	type row struct {
		ID          string    `db:"id" json:"id"`
		Kind        string    `db:"kind" json:"kind"`
		Name        string    `db:"name" json:"name"`
		ContentType string    `db:"content_type" json:"content_type"`
		Size        int64     `db:"size" json:"size"`
		UploadedBy  string    `db:"uploaded_by" json:"uploaded_by"`
		CreatedAt   time.Time `db:"created_at" json:"created_at"`
		State       string    `db:"state" json:"state"`
		Encrypted   bool      `db:"encrypted" json:"encrypted"`
	}
	shop := h.acme.ID
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rows []row
		err := sqlx.SelectContext(r.Context(), h.countDB, &rows, `SELECT id, kind, name, content_type, size, uploaded_by, created_at, state, encrypted
			FROM files WHERE shop_id = $1 AND state = 'ready' ORDER BY created_at, id LIMIT 50`, shop)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"files": rows})
	})
	bareSrv := httptestServer(b, bare)

	check := func(res *http.Response) int {
		var out struct {
			Files []json.RawMessage `json:"files"`
		}
		require.Equal(b, http.StatusOK, res.StatusCode)
		require.NoError(b, json.NewDecoder(res.Body).Decode(&out))
		res.Body.Close()
		return len(out.Files)
	}
	b.Run("path=secure", func(b *testing.B) {
		require.Equal(b, 50, check(send(b, srv, "GET", srv.URL+"/files?limit=50", "acme.example.test", h.tomCookie, nil, 0)))
		for b.Loop() {
			res := send(b, srv, "GET", srv.URL+"/files?limit=50", "acme.example.test", h.tomCookie, nil, 0)
			if check(res) != 50 {
				b.Fatal("short page")
			}
		}
	})
	b.Run("path=bare", func(b *testing.B) {
		require.Equal(b, 50, check(send(b, bareSrv, "GET", bareSrv.URL+"/", "", "", nil, 0)))
		for b.Loop() {
			if check(send(b, bareSrv, "GET", bareSrv.URL+"/", "", "", nil, 0)) != 50 {
				b.Fatal("short page")
			}
		}
	})
}

func httptestServer(b testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkTenantListSQLite is the secure path of BenchmarkTenantList on
// the embedded default (SQLite in WAL mode, the tenant wall), over
// loopback TCP, one client at a time. Profile it with -cpuprofile.
func BenchmarkTenantListSQLite(b *testing.B) {
	h := newFileHarness(b)
	for i := 0; i < 50; i++ {
		h.uploaded(h.tomCookie, "photo", "a.png", pngBytes(200))
	}
	srv := h.serveTCP(b)
	for b.Loop() {
		res := send(b, srv, "GET", srv.URL+"/files?limit=50", "acme.example.test", h.tomCookie, nil, 0)
		var out struct {
			Files []json.RawMessage `json:"files"`
		}
		require.Equal(b, http.StatusOK, res.StatusCode)
		require.NoError(b, json.NewDecoder(res.Body).Decode(&out))
		res.Body.Close()
		if len(out.Files) != 50 {
			b.Fatal("short page")
		}
	}
}
