package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// files is the file metadata repository of one shopTx. Statements bind
// t.shop, and row-level security holds them to it as well.
type files struct{ t *shopTx }

type fileRow struct {
	ID          ports.FileID `db:"id"`
	Kind        string       `db:"kind"`
	Name        string       `db:"name"`
	ContentType string       `db:"content_type"`
	Size        int64        `db:"size"`
	SHA256      []byte       `db:"sha256"`
	UploadedBy  ports.UserID `db:"uploaded_by"`
	CreatedAt   time.Time    `db:"created_at"`
	State       string       `db:"state"`
	Encrypted   bool         `db:"encrypted"`
	WrappedKey  []byte       `db:"wrapped_key"`
	ObjectKey   string       `db:"object_key"`
}

const fileCols = `id, kind, name, content_type, size, sha256, uploaded_by, created_at, state, encrypted, wrapped_key, object_key`

func (r fileRow) port() ports.File {
	return ports.File{
		ID: r.ID, Kind: r.Kind, Name: r.Name, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256,
		UploadedBy: r.UploadedBy, CreatedAt: r.CreatedAt.UTC(), State: ports.FileState(r.State),
		Encrypted: r.Encrypted, WrappedKey: r.WrappedKey, ObjectKey: r.ObjectKey,
	}
}

func (r files) Create(ctx context.Context, f ports.File) (ports.File, error) {
	if err := f.Validate(); err != nil {
		return ports.File{}, err
	}
	f.CreatedAt = r.t.store.now()
	f.SHA256, f.WrappedKey = cloneBytes(f.SHA256), cloneBytes(f.WrappedKey)
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO files (shop_id, `+fileCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.t.shop, f.ID, f.Kind, f.Name, f.ContentType, f.Size, f.SHA256, f.UploadedBy, f.CreatedAt, string(f.State),
		f.Encrypted, f.WrappedKey, f.ObjectKey)
	if err != nil {
		return ports.File{}, wrap("create file", err)
	}
	return f, nil
}

func (r files) Get(ctx context.Context, id ports.FileID) (ports.File, error) {
	var row fileRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+fileCols+` FROM files WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
	if err != nil {
		return ports.File{}, wrap("get file", err)
	}
	return row.port(), nil
}

func (r files) List(ctx context.Context, q ports.FileQuery) ([]ports.File, error) {
	if err := checkFileQuery(q); err != nil {
		return nil, err
	}
	var where strings.Builder
	args := []any{r.t.shop}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where.WriteString(`shop_id = $1`)
	if q.Kind != "" {
		where.WriteString(` AND kind = ` + arg(q.Kind))
	}
	if q.State != "" {
		where.WriteString(` AND state = ` + arg(string(q.State)))
	}
	if !q.After.IsZero() {
		var at time.Time
		if err := sqlx.GetContext(ctx, r.t.q, &at, `SELECT created_at FROM files WHERE shop_id = $1 AND id = $2`, r.t.shop, q.After); err != nil {
			return nil, wrap("list files: page cursor", err)
		}
		where.WriteString(` AND (created_at, id) > (` + arg(at) + `, ` + arg(q.After) + `)`)
	}
	limit := arg(q.PageLimit())
	var rows []fileRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+fileCols+` FROM files WHERE `+where.String()+` ORDER BY created_at, id LIMIT `+limit, args...)
	if err != nil {
		return nil, wrap("list files", err)
	}
	out := make([]ports.File, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r files) MarkReady(ctx context.Context, id ports.FileID, objectKey string, size int64, sum []byte) (ports.File, error) {
	if err := checkReady(size, sum); err != nil {
		return ports.File{}, err
	}
	if err := ports.ValidateObjectKey(objectKey); err != nil {
		return ports.File{}, err
	}
	var rows []fileRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `UPDATE files SET state = 'ready', size = $1, sha256 = $2, object_key = $3
		WHERE shop_id = $4 AND id = $5 AND state = 'pending' RETURNING `+fileCols, size, cloneBytes(sum), objectKey, r.t.shop, id)
	if err != nil {
		return ports.File{}, wrap("mark file ready", err)
	}
	if len(rows) == 1 {
		return rows[0].port(), nil
	}
	if _, err := r.Get(ctx, id); err != nil {
		return ports.File{}, fmt.Errorf("postgres: mark file ready: %w", err)
	}
	return ports.File{}, fmt.Errorf("postgres: mark file ready: file is not pending: %w", ports.ErrConflict)
}

func (r files) Delete(ctx context.Context, id ports.FileID) error {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM files WHERE shop_id = $1 AND id = $2`, r.t.shop, id))
	if err != nil {
		return wrap("delete file", err)
	}
	if n == 0 {
		return notFound("delete file")
	}
	return nil
}

// checkFileQuery refuses a malformed filter before any statement runs.
func checkFileQuery(q ports.FileQuery) error {
	if q.Kind != "" {
		if err := ports.ValidateFileKind(q.Kind); err != nil {
			return err
		}
	}
	switch q.State {
	case "", ports.FilePending, ports.FileReady:
		return nil
	}
	return ports.Invalid("state", "must be pending or ready")
}

func checkReady(size int64, sum []byte) error {
	if size < 0 {
		return ports.Invalid("size", "must not be negative")
	}
	if len(sum) != 32 {
		return ports.Invalid("sha256", "must be a SHA-256 digest (32 bytes)")
	}
	return nil
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
