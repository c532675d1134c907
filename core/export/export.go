// Package export makes a shop's whole data one verifiable archive (LIFE-1)
// and checks such an archive offline.
//
// An archive is a ZIP file, written as a stream (memory does not grow with
// the shop): every tenant row of every table with a shop_id column —
// Stockade's and the embedding app's — as JSON Lines per table
// (rows/<table>.jsonl), every ready file's object decrypted
// (files/<file id>), the shop's audit log up to and including the
// export's own "shop.exported" attempt (audit/events.jsonl, the audit
// package's JSON Lines records) with a signed checkpoint of that head
// (audit/checkpoint.note), a manifest (manifest.json) with the counts and
// the SHA-256 of every part, and manifest.sig, a signed note
// (golang.org/x/mod/sumdb/note, the audit checkpoint key) over the
// manifest's SHA-256. Verify checks it with the public key alone.
package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// FileOpener opens a file's object as plaintext without a permission
// check (storage.Service.OpenPlain).
type FileOpener interface {
	OpenPlain(ctx context.Context, shop ports.ShopID, f ports.File) (io.ReadCloser, error)
}

// Deps are the exporter's collaborators.
type Deps struct {
	Store ports.Store // required; its ShopTx must implement ports.TenantRowReader
	// Files opens the shop's objects; nil exports a shop that has no ready
	// files only (one that has fails with ErrUnavailable).
	Files FileOpener
	// Signer and Verifiers are the audit checkpoint keys: the export signs
	// the chain's head and its manifest with Signer. Required.
	Signer    note.Signer
	Verifiers note.Verifiers
	// Clock dates the manifest and the audit events; nil is the system
	// clock.
	Clock ports.Clock
	// Policy is the permission matrix; nil is the default.
	Policy *access.Policy
}

// Exporter exports shops. It is safe for concurrent use.
type Exporter struct {
	d Deps
}

// New returns an Exporter. ErrInvalid without a store or the keys.
func New(d Deps) (*Exporter, error) {
	if d.Store == nil || d.Signer == nil || d.Verifiers == nil {
		return nil, ports.Invalid("export deps", "store, signer and verifiers are required")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	return &Exporter{d: d}, nil
}

// Options are an export's settings.
type Options struct {
	// Reason says why; required when the caller is not a member of the
	// shop (an operator through the CLI's system scope), recorded in the
	// audit event. At most 500 bytes.
	Reason string
}

// ActionExported is the audit action of an export: appended as attempted
// before anything is read, and again with its outcome.
const ActionExported = "shop.exported"

// maxReason bounds Options.Reason.
const maxReason = 500

// Export writes the caller's shop as one archive to w and returns its
// manifest. The caller needs access.ShopExport (Owner) or a system scope
// (the CLI, for an operator), which must give a reason.
//
// It is audit-first (AUD-3, audit.BeforeEvent): a "shop.exported" event
// with outcome attempted, naming the caller and the reason, is committed
// in its own unit of work before anything of the shop is read; if that
// fails nothing is written. The chain's head, that event, is then signed
// as a checkpoint (stored like every checkpoint) and the log up to it goes
// into the archive, so the archive verifies against the chain. The
// outcome is appended afterwards. Rows are read table by table, each in
// one read-only unit of work; files page by page, their objects outside
// any transaction. A failed write to w ends the export with the failure
// recorded; the archive is then incomplete (it has no signed manifest).
func (x *Exporter) Export(ctx context.Context, w io.Writer, opt Options) (Manifest, error) {
	sc, err := x.d.Policy.Require(ctx, access.ShopExport)
	if err != nil {
		return Manifest{}, err
	}
	if sc.Impersonator != "" || sc.HQ {
		return Manifest{}, fmt.Errorf("export: an export is the shop owner's or an operator's, not under impersonation or HQ access: %w", ports.ErrForbidden)
	}
	if sc.System != "" && opt.Reason == "" {
		return Manifest{}, ports.Invalid("reason", "an operator's export needs a reason")
	}
	if len(opt.Reason) > maxReason {
		return Manifest{}, ports.Invalid("reason", fmt.Sprintf("must be at most %d bytes", maxReason))
	}
	detail := map[string]string{"format": FormatV1}
	if opt.Reason != "" {
		detail["reason"] = opt.Reason
	}
	after, err := json.Marshal(detail)
	if err != nil {
		return Manifest{}, err
	}
	attempted := ports.AuditEvent{
		Actor: sc.Actor(), Action: ActionExported, Target: "shop:" + sc.Shop.String(),
		After: after, IP: sc.IP, UserAgent: sc.UserAgent, RequestID: sc.RequestID,
	}
	var m Manifest
	err = audit.BeforeEvent(ctx, x.d.Store, x.d.Clock, sc.Shop, attempted, func(ctx context.Context, attempt ports.AuditEvent) error {
		var err error
		m, err = x.write(ctx, sc.Shop, attempt, w)
		return err
	})
	return m, err
}

// write is the export after its attempt was committed.
func (x *Exporter) write(ctx context.Context, shop ports.ShopID, attempt ports.AuditEvent, w io.Writer) (Manifest, error) {
	cp, err := x.checkpoint(ctx, shop, attempt.Seq)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: FormatV1, Shop: shop.String(), CreatedAt: ports.Timestamp(x.d.Clock.Now()).UTC(),
		Audit: AuditHead{Size: cp.Size, Head: cp.Hash.String()}}
	aw := &archive{zw: zip.NewWriter(w), modified: m.CreatedAt}
	if err := x.writeRows(ctx, shop, aw, &m); err != nil {
		return Manifest{}, err
	}
	if err := x.writeFiles(ctx, shop, aw, &m); err != nil {
		return Manifest{}, err
	}
	if err := x.writeAudit(ctx, shop, cp, aw, &m); err != nil {
		return Manifest{}, err
	}
	m.Parts = aw.parts
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	sig, err := note.Sign(&note.Note{Text: signedText(shop, body)}, x.d.Signer)
	if err != nil {
		return Manifest{}, fmt.Errorf("export: sign manifest: %w", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{ManifestName, body}, {SignatureName, sig}} {
		e, err := aw.zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: aw.modified})
		if err != nil {
			return Manifest{}, fmt.Errorf("export: write %s: %w", f.name, err)
		}
		if _, err := e.Write(f.b); err != nil {
			return Manifest{}, fmt.Errorf("export: write %s: %w", f.name, err)
		}
	}
	if err := aw.zw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("export: finish archive: %w", err)
	}
	return m, nil
}

// checkpoint signs the chain's head, which is at least the export's
// attempt (seq), retrying while a concurrent checkpoint (housekeeping)
// holds the shop.
func (x *Exporter) checkpoint(ctx context.Context, shop ports.ShopID, seq int64) (ports.AuditCheckpoint, error) {
	var err error
	for range 5 {
		var cp ports.AuditCheckpoint
		cp, err = audit.Checkpoint(ctx, x.d.Store, shop, x.d.Signer, x.d.Verifiers)
		if err == nil {
			if cp.Size < seq {
				return cp, fmt.Errorf("export: the signed head %d is before the export's event %d: %w", cp.Size, seq, ports.ErrConflict)
			}
			return cp, nil
		}
		if !errors.Is(err, ports.ErrConflict) {
			break
		}
	}
	return ports.AuditCheckpoint{}, fmt.Errorf("export: sign the audit chain's head: %w", err)
}

// writeRows writes one rows part per tenant table, every table read in
// one snapshot unit of work (ports.Snapshot): the rows agree with each
// other as of one moment, whatever is written while they stream.
func (x *Exporter) writeRows(ctx context.Context, shop ports.ShopID, aw *archive, m *Manifest) error {
	return x.d.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		rr, ok := tx.(ports.TenantRowReader)
		if !ok {
			return fmt.Errorf("export: list tables: the store cannot list tenant rows: %w", ports.ErrUnsupported)
		}
		self, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return fmt.Errorf("export: read the shop: %w", err)
		}
		m.Slug = self.Slug
		tables, err := rr.TenantTables(ctx)
		if err != nil {
			return fmt.Errorf("export: list tables: %w", err)
		}
		for _, table := range tables {
			p, pw, err := aw.create(RowsDir+table+".jsonl", KindRows, zip.Deflate)
			if err != nil {
				return err
			}
			p.Table = table
			err = rr.EachTenantRow(ctx, table, func(row json.RawMessage) error {
				if _, err := pw.Write(row); err != nil {
					return err
				}
				if _, err := pw.Write([]byte{'\n'}); err != nil {
					return err
				}
				p.Rows++
				return nil
			})
			if err != nil {
				return fmt.Errorf("export: rows of %s: %w", table, err)
			}
			aw.done(p, pw)
			m.Tables++
			m.Rows += p.Rows
		}
		return nil
	}, ports.Snapshot())
}

// writeFiles writes every ready file's plaintext object, checking it
// against the SHA-256 recorded at upload.
func (x *Exporter) writeFiles(ctx context.Context, shop ports.ShopID, aw *archive, m *Manifest) error {
	q := ports.FileQuery{State: ports.FileReady, Limit: ports.MaxFilePageSize}
	for {
		var page []ports.File
		err := x.d.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Files().List(ctx, q)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return fmt.Errorf("export: list files: %w", err)
		}
		for _, f := range page {
			if err := x.writeFile(ctx, shop, f, aw, m); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].ID
	}
}

func (x *Exporter) writeFile(ctx context.Context, shop ports.ShopID, f ports.File, aw *archive, m *Manifest) error {
	if x.d.Files == nil {
		return fmt.Errorf("export: file %s: no file storage configured: %w", f.ID, ports.ErrUnavailable)
	}
	rc, err := x.d.Files.OpenPlain(ctx, shop, f)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rc.Close()
	p, pw, err := aw.create(FilesDir+f.ID.String(), KindObject, zip.Store)
	if err != nil {
		return err
	}
	p.File = &FileInfo{ID: f.ID.String(), Kind: f.Kind, Name: f.Name, ContentType: f.ContentType, Encrypted: f.Encrypted,
		SHA256: hex.EncodeToString(f.SHA256)}
	if _, err := io.Copy(pw, rc); err != nil {
		return fmt.Errorf("export: file %s: %w", f.ID, err)
	}
	aw.done(p, pw)
	if p.SHA256 != p.File.SHA256 || p.Bytes != f.Size {
		return fmt.Errorf("export: file %s: its object does not match the SHA-256 and size recorded at upload", f.ID)
	}
	m.Objects++
	m.Bytes += p.Bytes
	return nil
}

// writeAudit writes the log up to cp and cp's note.
func (x *Exporter) writeAudit(ctx context.Context, shop ports.ShopID, cp ports.AuditCheckpoint, aw *archive, m *Manifest) error {
	err := x.d.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		m.Audit.Unhashed, err = tx.Audit().Unhashed(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return fmt.Errorf("export: audit prefix: %w", err)
	}
	p, pw, err := aw.create(EventsName, KindEvents, zip.Deflate)
	if err != nil {
		return err
	}
	enc, err := audit.NewEncoder(audit.FormatJSONLines, pw)
	if err != nil {
		return err
	}
	for after := int64(0); after < cp.Size; {
		var page []ports.AuditEvent
		err := x.d.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: after, Limit: 1000})
			return err
		}, ports.ReadOnly())
		if err != nil {
			return fmt.Errorf("export: read audit log: %w", err)
		}
		if len(page) == 0 {
			return fmt.Errorf("export: the audit log ends at %d, before the signed head %d", after, cp.Size)
		}
		for _, e := range page {
			if e.Seq > cp.Size {
				break
			}
			if err := enc.Encode(e); err != nil {
				return fmt.Errorf("export: write audit log: %w", err)
			}
			p.Rows++
		}
		after = page[len(page)-1].Seq
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("export: write audit log: %w", err)
	}
	aw.done(p, pw)
	cpPart, cw, err := aw.create(CheckpointName, KindCheckpoint, zip.Deflate)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(cw, cp.Note); err != nil {
		return fmt.Errorf("export: write checkpoint: %w", err)
	}
	aw.done(cpPart, cw)
	return nil
}

// archive is the ZIP being written and the parts written so far.
type archive struct {
	zw       *zip.Writer
	modified time.Time
	parts    []Part
}

// partWriter writes one part, hashing and counting what passes.
type partWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (p *partWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.h.Write(b[:n])
	p.n += int64(n)
	return n, err
}

// create starts the part name; done records it.
func (a *archive) create(name, kind string, method uint16) (*Part, *partWriter, error) {
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: a.modified})
	if err != nil {
		return nil, nil, fmt.Errorf("export: write %s: %w", name, err)
	}
	return &Part{Name: name, Kind: kind}, &partWriter{w: w, h: sha256.New()}, nil
}

func (a *archive) done(p *Part, pw *partWriter) {
	p.SHA256 = hex.EncodeToString(pw.h.Sum(nil))
	p.Bytes = pw.n
	a.parts = append(a.parts, *p)
}
