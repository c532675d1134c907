package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// files is the file metadata repository of one shopTx. Every statement
// binds t.shop; none accepts a shop from the caller.
type files struct{ t *shopTx }

type fileRow struct {
	ShopID      ports.ShopID `db:"shop_id"`
	ID          ports.FileID `db:"id"`
	Kind        string       `db:"kind"`
	Name        string       `db:"name"`
	ContentType string       `db:"content_type"`
	Size        int64        `db:"size"`
	SHA256      []byte       `db:"sha256"`
	UploadedBy  ports.UserID `db:"uploaded_by"`
	CreatedAt   int64        `db:"created_at"`
	State       string       `db:"state"`
	Encrypted   bool         `db:"encrypted"`
	WrappedKey  []byte       `db:"wrapped_key"`
	ObjectKey   string       `db:"object_key"`
}

const fileCols = `shop_id, id, kind, name, content_type, size, sha256, uploaded_by, created_at, state, encrypted, wrapped_key, object_key`

func (r fileRow) port() ports.File {
	return ports.File{
		ID: r.ID, Kind: r.Kind, Name: r.Name, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256,
		UploadedBy: r.UploadedBy, CreatedAt: fromMicros(r.CreatedAt), State: ports.FileState(r.State),
		Encrypted: r.Encrypted, WrappedKey: r.WrappedKey, ObjectKey: r.ObjectKey,
	}
}

func (r files) Create(ctx context.Context, f ports.File) (ports.File, error) {
	if err := f.Validate(); err != nil {
		return ports.File{}, err
	}
	row := fileRow{
		ShopID: r.t.shop, ID: f.ID, Kind: f.Kind, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
		SHA256: cloneBytes(f.SHA256), UploadedBy: f.UploadedBy, CreatedAt: r.t.store.now(), State: string(f.State),
		Encrypted: f.Encrypted, WrappedKey: cloneBytes(f.WrappedKey), ObjectKey: f.ObjectKey,
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO files (`+fileCols+`) VALUES
		(:shop_id, :id, :kind, :name, :content_type, :size, :sha256, :uploaded_by, :created_at, :state, :encrypted, :wrapped_key, :object_key)`, row)
	if err != nil {
		return ports.File{}, wrap("create file", err)
	}
	return row.port(), nil
}

func (r files) Get(ctx context.Context, id ports.FileID) (ports.File, error) {
	var row fileRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+fileCols+` FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, id)
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
	where.WriteString(`shop_id = ?`)
	if q.Kind != "" {
		where.WriteString(` AND kind = ?`)
		args = append(args, q.Kind)
	}
	if q.State != "" {
		where.WriteString(` AND state = ?`)
		args = append(args, string(q.State))
	}
	if !q.After.IsZero() {
		var at int64
		if err := r.t.q.GetContext(ctx, &at, `SELECT created_at FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, q.After); err != nil {
			return nil, wrap("list files: page cursor", err)
		}
		where.WriteString(` AND (created_at, id) > (?, ?)`)
		args = append(args, at, q.After)
	}
	args = append(args, q.PageLimit())
	var rows []fileRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+fileCols+` FROM files WHERE `+where.String()+` ORDER BY created_at, id LIMIT ?`, args...)
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
	err := r.t.q.SelectContext(ctx, &rows, `UPDATE files SET state = 'ready', size = ?, sha256 = ?, object_key = ?
		WHERE shop_id = ? AND id = ? AND state = 'pending' RETURNING `+fileCols, size, cloneBytes(sum), objectKey, r.t.shop, id)
	if err != nil {
		return ports.File{}, wrap("mark file ready", err)
	}
	if len(rows) == 1 {
		return rows[0].port(), nil
	}
	if _, err := r.Get(ctx, id); err != nil {
		return ports.File{}, fmt.Errorf("sqlite: mark file ready: %w", err)
	}
	return ports.File{}, fmt.Errorf("sqlite: mark file ready: file is not pending: %w", ports.ErrConflict)
}

func (r files) Delete(ctx context.Context, id ports.FileID) error {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return wrap("delete file", err)
	}
	return mustAffect("delete file", res)
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
