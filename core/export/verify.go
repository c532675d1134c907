package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// Report is what Verify found in an archive.
type Report struct {
	// Manifest is the archive's manifest as read (even when its signature
	// does not verify).
	Manifest Manifest
	// Audit is the verification of the exported audit log.
	Audit audit.Report
	// Problems lists everything wrong, in the order found; empty when the
	// archive verifies.
	Problems []string
}

// OK reports whether the archive verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks an archive offline, with the public keys alone
// (verifiers, e.g. the one of `stockade audit public-key`): manifest.sig
// is a note signed by a known key over the SHA-256 of manifest.json for
// the manifest's shop; every part the manifest lists is present once,
// with its SHA-256, size and line count, and nothing else is; every rows
// line is a JSON object whose shop_id is the shop; every object part
// hashes to the SHA-256 the shop recorded; the checkpoint is signed by a
// known key and the exported audit events form an unbroken chain from the
// shop's first event up to it, whose head the manifest names and whose
// last event is the export's own attempt. Tampering is reported in
// Report.Problems; the error is for an archive that cannot be read at all.
// The audit events are held in memory while the chain is walked.
func Verify(ctx context.Context, r io.ReaderAt, size int64, verifiers note.Verifiers) (Report, error) {
	var rep Report
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return rep, fmt.Errorf("export verify: not a ZIP archive: %w", err)
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := entries[f.Name]; dup {
			rep.problem("%s: appears more than once", f.Name)
		}
		entries[f.Name] = f
	}
	body, err := readEntry(entries, ManifestName, 64<<20)
	if err != nil {
		rep.problem("%v", err)
		return rep, nil
	}
	if err := json.Unmarshal(body, &rep.Manifest); err != nil {
		rep.problem("%s: %v", ManifestName, err)
		return rep, nil
	}
	m := rep.Manifest
	shop, err := ports.ParseShopID(m.Shop)
	if err != nil || m.Format != FormatV1 {
		rep.problem("%s: not a %s manifest of a shop", ManifestName, FormatV1)
		return rep, nil
	}
	sig, err := readEntry(entries, SignatureName, 64<<10)
	if err != nil {
		rep.problem("%v", err)
	} else if n, err := note.Open(sig, verifiers); err != nil {
		rep.problem("%s: not signed by a known key: %v", SignatureName, err)
	} else if signedShop, sum, err := parseSignedText(n.Text); err != nil {
		rep.problem("%s: %v", SignatureName, err)
	} else if want := signedText(shop, body); signedShop != shop || n.Text != want {
		rep.problem("%s: signs shop %s and manifest %s, not this manifest (%s)", SignatureName, signedShop, sum, want[len(want)-65:len(want)-1])
	}
	listed := map[string]bool{ManifestName: true, SignatureName: true}
	var rows, objects, bytesTotal int64
	tables := 0
	for _, p := range m.Parts {
		if listed[p.Name] {
			rep.problem("%s: listed twice in the manifest", p.Name)
			continue
		}
		listed[p.Name] = true
		f, ok := entries[p.Name]
		if !ok {
			rep.problem("%s: listed in the manifest but missing", p.Name)
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		got, err := checkPart(shop, f, p)
		if err != nil {
			rep.problem("%s: %v", p.Name, err)
			continue
		}
		if got.SHA256 != p.SHA256 || got.Bytes != p.Bytes {
			rep.problem("%s: SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", p.Name, got.SHA256, got.Bytes, p.SHA256, p.Bytes)
		}
		switch p.Kind {
		case KindRows:
			tables++
			rows += p.Rows
			if got.Rows != p.Rows {
				rep.problem("%s: %d rows, the manifest says %d", p.Name, got.Rows, p.Rows)
			}
		case KindObject:
			objects++
			bytesTotal += p.Bytes
			if p.File == nil || got.SHA256 != p.File.SHA256 {
				rep.problem("%s: the object does not hash to the SHA-256 the shop recorded for the file", p.Name)
			}
		}
	}
	for name := range entries {
		if !listed[name] {
			rep.problem("%s: in the archive but not in the manifest", name)
		}
	}
	if tables != m.Tables || rows != m.Rows || objects != m.Objects || bytesTotal != m.Bytes {
		rep.problem("%s: totals (%d tables, %d rows, %d objects, %d bytes) do not add up to its parts", ManifestName, m.Tables, m.Rows, m.Objects, m.Bytes)
	}
	verifyAudit(ctx, &rep, shop, entries, verifiers)
	return rep, nil
}

// verifyAudit walks the exported chain against the exported checkpoint.
func verifyAudit(ctx context.Context, rep *Report, shop ports.ShopID, entries map[string]*zip.File, verifiers note.Verifiers) {
	cp, err := readEntry(entries, CheckpointName, 64<<10)
	if err != nil {
		rep.problem("%v", err)
		return
	}
	f, ok := entries[EventsName]
	if !ok {
		rep.problem("%s: missing", EventsName)
		return
	}
	rc, err := f.Open()
	if err != nil {
		rep.problem("%s: %v", EventsName, err)
		return
	}
	defer rc.Close()
	var events []ports.AuditEvent
	dec := json.NewDecoder(bufio.NewReader(rc))
	for {
		var r audit.Record
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			rep.problem("%s: %v", EventsName, err)
			return
		}
		e, err := r.Event(shop)
		if err != nil {
			rep.problem("%s: %v", EventsName, err)
			return
		}
		events = append(events, e)
	}
	ar, err := audit.VerifyExported(ctx, shop, events, rep.Manifest.Audit.Unhashed, []string{string(cp)}, verifiers)
	rep.Audit = ar
	if err != nil {
		rep.problem("audit: %v", err)
		return
	}
	for _, p := range ar.Problems {
		rep.problem("audit: %s", p)
	}
	if ar.Checkpoints != 1 {
		rep.problem("%s: no checkpoint of this shop verified", CheckpointName)
	}
	if !ar.OK() {
		return
	}
	head := rep.Manifest.Audit
	if ar.Head != head.Size || ar.HeadHash.String() != head.Head || ar.Checkpoint.Size != head.Size {
		rep.problem("audit: the chain ends at %d (%s), signed %d; the manifest says %d (%s)", ar.Head, ar.HeadHash, ar.Checkpoint.Size, head.Size, head.Head)
		return
	}
	if last := events[len(events)-1]; last.Action != ActionExported || last.Outcome != ports.OutcomeAttempted {
		rep.problem("audit: the chain's head is %q (%s), not the export's own attempt", last.Action, last.Outcome)
	}
}

// readEntry reads a small entry whole.
func readEntry(entries map[string]*zip.File, name string, limit int64) ([]byte, error) {
	f, ok := entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// checkPart hashes and counts one part; a rows part's lines must be JSON
// objects whose shop_id is shop.
func checkPart(shop ports.ShopID, f *zip.File, p Part) (Part, error) {
	rc, err := f.Open()
	if err != nil {
		return Part{}, err
	}
	defer rc.Close()
	h := sha256.New()
	got := Part{Name: p.Name}
	if p.Kind != KindRows && p.Kind != KindEvents {
		n, err := io.Copy(h, rc)
		if err != nil {
			return Part{}, err
		}
		got.Bytes, got.SHA256 = n, hex.EncodeToString(h.Sum(nil))
		return got, nil
	}
	br := bufio.NewReaderSize(io.TeeReader(rc, h), 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) { // a long row: read the rest of it
			var more []byte
			more, err = br.ReadSlice('\n')
			line = append(append([]byte(nil), line...), more...)
		}
		got.Bytes += int64(len(line))
		if len(line) > 0 {
			got.Rows++
			if p.Kind == KindRows {
				if err := rowOfShop(shop, line); err != nil {
					return Part{}, fmt.Errorf("row %d: %w", got.Rows, err)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Part{}, err
		}
	}
	got.SHA256 = hex.EncodeToString(h.Sum(nil))
	return got, nil
}

// rowOfShop checks that line is a JSON object whose shop_id names shop
// (as a UUID in any of its text forms).
func rowOfShop(shop ports.ShopID, line []byte) error {
	var row struct {
		ShopID *string `json:"shop_id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &row); err != nil || row.ShopID == nil {
		return errors.New("not a JSON object with a shop_id")
	}
	id, err := uuid.Parse(*row.ShopID)
	if err != nil || id != shop.UUID {
		return fmt.Errorf("shop_id %q is not this shop's", *row.ShopID)
	}
	return nil
}
