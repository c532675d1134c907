package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Files implements ports.ShopTx.
func (t *Shop) Files() ports.FileRepo { return files{t} }

// files is the file metadata repository of one Shop. Every statement
// binds t.shop; none accepts a shop from the caller.
type files struct{ t *Shop }

var _ ports.FileRepo = files{}

type fileRow struct {
	ID          ports.FileID `db:"id"`
	Kind        string       `db:"kind"`
	Name        string       `db:"name"`
	ContentType string       `db:"content_type"`
	Size        int64        `db:"size"`
	SHA256      []byte       `db:"sha256"`
	UploadedBy  ports.UserID `db:"uploaded_by"`
	CreatedAt   Time         `db:"created_at"`
	State       string       `db:"state"`
	Encrypted   bool         `db:"encrypted"`
	WrappedKey  []byte       `db:"wrapped_key"`
	ObjectKey   string       `db:"object_key"`
}

const fileCols = `id, kind, name, content_type, size, sha256, uploaded_by, created_at, state, encrypted, wrapped_key, object_key`

func (r fileRow) port() ports.File {
	return ports.File{
		ID: r.ID, Kind: r.Kind, Name: r.Name, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256,
		UploadedBy: r.UploadedBy, CreatedAt: r.CreatedAt.Time, State: ports.FileState(r.State),
		Encrypted: r.Encrypted, WrappedKey: r.WrappedKey, ObjectKey: r.ObjectKey,
	}
}

// Create stores f as given (validated), stamped with the store clock's
// time; the returned file shares no byte slice with the caller's.
func (r files) Create(ctx context.Context, f ports.File) (ports.File, error) {
	if err := f.Validate(); err != nil {
		return ports.File{}, err
	}
	f.CreatedAt = r.t.now()
	f.SHA256, f.WrappedKey = cloneBytes(f.SHA256), cloneBytes(f.WrappedKey)
	_, err := r.t.exec(ctx, `INSERT INTO files (shop_id, `+fileCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, f.ID, f.Kind, f.Name, f.ContentType, f.Size, f.SHA256, f.UploadedBy, f.CreatedAt, string(f.State),
		f.Encrypted, f.WrappedKey, f.ObjectKey)
	if err != nil {
		return ports.File{}, r.t.wrap("create file", err)
	}
	return f, nil
}

func (r files) Get(ctx context.Context, id ports.FileID) (ports.File, error) {
	var row fileRow
	err := r.t.get(ctx, &row, `SELECT `+fileCols+` FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.File{}, r.t.wrap("get file", err)
	}
	return row.port(), nil
}

// List reads a page in (created_at, id) order; q.After is the last file of
// the previous page, whose creation time is read first. The statement's
// shape depends on which filters are set: a bounded number of texts.
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
		var at Time
		if err := r.t.get(ctx, &at, `SELECT created_at FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, q.After); err != nil {
			return nil, r.t.wrap("list files: page cursor", err)
		}
		where.WriteString(` AND (created_at, id) > (?, ?)`)
		args = append(args, at.Time, q.After)
	}
	args = append(args, q.PageLimit())
	var rows []fileRow
	err := r.t.sel(ctx, &rows, `SELECT `+fileCols+` FROM files WHERE `+where.String()+` ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, r.t.wrap("list files", err)
	}
	out := make([]ports.File, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// MarkReady moves a pending file to ready in one conditional UPDATE;
// ErrNotFound if there is no such file, ErrConflict if it is not pending.
func (r files) MarkReady(ctx context.Context, id ports.FileID, objectKey string, size int64, sum []byte) (ports.File, error) {
	if err := checkReady(size, sum); err != nil {
		return ports.File{}, err
	}
	if err := ports.ValidateObjectKey(objectKey); err != nil {
		return ports.File{}, err
	}
	var rows []fileRow
	err := r.t.sel(ctx, &rows, `UPDATE files SET state = 'ready', size = ?, sha256 = ?, object_key = ?
		WHERE shop_id = ? AND id = ? AND state = 'pending' RETURNING `+fileCols, size, cloneBytes(sum), objectKey, r.t.shop, id)
	if err != nil {
		return ports.File{}, r.t.wrap("mark file ready", err)
	}
	if len(rows) == 1 {
		return rows[0].port(), nil
	}
	if _, err := r.Get(ctx, id); err != nil {
		return ports.File{}, fmt.Errorf("%s: mark file ready: %w", r.t.d.Name(), err)
	}
	return ports.File{}, fmt.Errorf("%s: mark file ready: file is not pending: %w", r.t.d.Name(), ports.ErrConflict)
}

func (r files) Delete(ctx context.Context, id ports.FileID) error {
	n, err := r.t.exec(ctx, `DELETE FROM files WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return r.t.wrap("delete file", err)
	}
	if n == 0 {
		return r.t.notFound("delete file")
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
