package export

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// FormatV1 names the archive's layout; the manifest states it.
const FormatV1 = "stockade-shop-export/1"

// The archive's fixed part names. Rows are under RowsDir as
// "<table>.jsonl", file objects under FilesDir by file ID.
const (
	ManifestName   = "manifest.json"
	SignatureName  = "manifest.sig"
	EventsName     = "audit/events.jsonl"
	CheckpointName = "audit/checkpoint.note"
	RowsDir        = "rows/"
	FilesDir       = "files/"
)

// Part kinds.
const (
	KindRows       = "rows"
	KindObject     = "object"
	KindEvents     = "audit-events"
	KindCheckpoint = "audit-checkpoint"
)

// Manifest describes an archive: the shop, the audit chain head the export
// is pinned to, and every part with its SHA-256. It is the archive's
// manifest.json, signed by manifest.sig.
type Manifest struct {
	Format    string    `json:"format"`
	Shop      string    `json:"shop"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"created_at"`
	// Audit is the shop's audit chain as exported: events 1..Size, the
	// last of them the export's own "shop.exported" attempt, whose hash
	// is Head, signed by the checkpoint part.
	Audit AuditHead `json:"audit"`
	// Totals.
	Tables  int    `json:"tables"`
	Rows    int64  `json:"rows"`
	Objects int64  `json:"objects"`
	Bytes   int64  `json:"object_bytes"`
	Parts   []Part `json:"parts"`
}

// AuditHead is the audit chain head an archive carries.
type AuditHead struct {
	Size     int64  `json:"size"`
	Head     string `json:"head"`
	Unhashed int64  `json:"unhashed"`
}

// Part is one entry of the archive other than the manifest and its
// signature.
type Part struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// Rows counts the lines of a rows or audit-events part.
	Rows int64 `json:"rows,omitempty"`
	// Table is a rows part's table.
	Table string `json:"table,omitempty"`
	// File is an object part's file row, as the shop recorded it.
	File *FileInfo `json:"file,omitempty"`
}

// FileInfo is what an archive states about one file's object: the
// plaintext's SHA-256 the shop recorded at upload, which the part's own
// hash must equal.
type FileInfo struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Encrypted   bool   `json:"encrypted"`
	SHA256      string `json:"sha256"`
}

// signedOrigin starts the text of the manifest's signed note.
const signedOrigin = "stockade.export/"

// signedText is the text manifest.sig signs: the origin with the shop, and
// the manifest's SHA-256 in hex.
func signedText(shop ports.ShopID, manifest []byte) string {
	sum := sha256.Sum256(manifest)
	return signedOrigin + shop.String() + "\n" + hex.EncodeToString(sum[:]) + "\n"
}

// parseSignedText returns the shop and manifest digest a signed text
// states.
func parseSignedText(text string) (shop ports.ShopID, sum string, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 3 || lines[2] != "" || !strings.HasPrefix(lines[0], signedOrigin) {
		return shop, "", errors.New("not an export manifest signature")
	}
	shop, err = ports.ParseShopID(strings.TrimPrefix(lines[0], signedOrigin))
	if err != nil {
		return shop, "", fmt.Errorf("signature origin: %w", err)
	}
	return shop, lines[1], nil
}
