package ports

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// AuditHashSize is the size of an audit chain hash in bytes.
const AuditHashSize = sha256.Size

// auditHashTag is the domain and version tag that starts every encoding.
const auditHashTag = "stockade-audit-v1"

// AuditHash is a SHA-256 link of the audit chain (AUD-4). Each shop's log
// is a hash chain: every event carries the hash of the event before it
// (PrevHash) and its own hash (Hash), so editing, deleting, inserting or
// reordering rows breaks the chain where it happened. The store assigns both at append time, under
// the same per-shop serialisation that makes Seq gap-free.
//
// # Hash
//
// Hash = SHA-256(encoding), where the encoding is the concatenation of, in
// this order:
//
//	"stockade-audit-v1"  the 17 ASCII bytes, a version and domain tag
//	shop ID              16 bytes, the UUID in binary
//	seq                  8 bytes, big-endian two's complement
//	event ID             16 bytes, the UUID in binary
//	time                 8 bytes, big-endian: Unix time in microseconds (UTC)
//	actor                str
//	impersonator         str
//	action               str
//	target               str
//	outcome              str
//	before               opt
//	after                opt
//	ip                   str
//	user agent           str
//	request id           str
//	prev hash            32 bytes
//
// str is a 4-byte big-endian byte length followed by the bytes as stored
// (UTF-8 text, no normalisation); opt is one byte 0 for an absent value
// (SQL NULL, a nil json.RawMessage) or one byte 1 followed by a str. Before
// and After are hashed as the exact bytes stored and read back (stores keep
// JSON as text, never re-encoded). Every field is either fixed-size or
// length-prefixed, so two different events never share an encoding.
// TestAuditEncodingGolden (auditchain_test.go) spells out one event's
// encoding byte by byte, with its hash. The PostgreSQL store computes the
// same encoding in SQL (stockade_audit_append, migration 00017), so that
// the application role cannot store a hash that does not cover its row;
// porttest checks that the two agree.
//
// PrevHash is the previous event's Hash; the first hashed event of a shop
// has the zero PrevHash (32 zero bytes).
//
// # Events from before the chain
//
// Events appended before the chain existed (schema version 7) have a zero
// PrevHash and Hash and are not part of the chain; the chain starts at a
// shop's first hashed event, whose PrevHash is zero. They may only be a
// shop's first events, and how many there are was fixed once, when the
// store gained the chain (AuditRepo.Unhashed; zero for shops created
// since). Verification counts them and reports them; an unhashed event
// past that prefix, a chain that starts inside it, or an unhashed event
// where a checkpoint signed a hash, is tampering.
//
// The zero AuditHash means "none": the PrevHash of a chain's first event,
// or the Hash of an event from before the chain.
type AuditHash [AuditHashSize]byte

// IsZero reports whether h is all zero bytes.
func (h AuditHash) IsZero() bool { return h == AuditHash{} }

// String returns h in lower-case hex.
func (h AuditHash) String() string { return hex.EncodeToString(h[:]) }

// AuditHashFromBytes converts a stored hash: nil or empty gives the zero
// hash, 32 bytes give the hash, any other length is ErrInvalid.
func AuditHashFromBytes(b []byte) (AuditHash, error) {
	var h AuditHash
	switch len(b) {
	case 0:
		return h, nil
	case AuditHashSize:
		copy(h[:], b)
		return h, nil
	}
	return h, Invalid("audit hash", "must be 32 bytes")
}

// Bytes returns h as a byte slice, or nil for the zero hash (how stores
// keep "no hash": SQL NULL).
func (h AuditHash) Bytes() []byte {
	if h.IsZero() {
		return nil
	}
	return h[:]
}

// AppendAuditEncoding appends the canonical encoding of e (documented on
// AuditHash), with e.PrevHash as the previous hash, to b and returns the
// extended slice. e.Hash is not part of it.
func AppendAuditEncoding(b []byte, e AuditEvent) []byte {
	b = appendAuditHead(b, e.ShopID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendAuditBody(b, e)
	return append(b, e.PrevHash[:]...)
}

// SplitAuditEncoding returns the canonical encoding of e in the two parts
// that do not depend on what the store assigns at append time: the
// encoding is head || seq (8 bytes, big-endian) || body || prev hash (32
// bytes). It lets a store compute the hash inside the statement that
// assigns the sequence number (e.g. PostgreSQL's sha256()) while the
// encoding itself stays defined here only.
func SplitAuditEncoding(e AuditEvent) (head, body []byte) {
	return appendAuditHead(nil, e.ShopID), appendAuditBody(nil, e)
}

func appendAuditHead(b []byte, shop ShopID) []byte {
	b = append(b, auditHashTag...)
	return append(b, shop.UUID[:]...)
}

func appendAuditBody(b []byte, e AuditEvent) []byte {
	b = append(b, e.ID.UUID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixMicro()))
	b = appendStr(b, e.Actor)
	b = appendStr(b, e.Impersonator)
	b = appendStr(b, e.Action)
	b = appendStr(b, e.Target)
	b = appendStr(b, string(e.Outcome))
	b = appendOpt(b, e.Before)
	b = appendOpt(b, e.After)
	b = appendStr(b, e.IP)
	b = appendStr(b, e.UserAgent)
	return appendStr(b, e.RequestID)
}

func appendStr[S string | []byte](b []byte, s S) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendOpt(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	return appendStr(append(b, 1), v)
}

// AuditHasher computes chain hashes, reusing one buffer between calls. The
// zero value is ready to use; it is not safe for concurrent use.
type AuditHasher struct{ buf []byte }

// Sum returns the chain hash of e: SHA-256 over its canonical encoding,
// with e.PrevHash as the previous hash. e.Hash is ignored.
func (h *AuditHasher) Sum(e AuditEvent) AuditHash {
	h.buf = AppendAuditEncoding(h.buf[:0], e)
	return sha256.Sum256(h.buf)
}

// ChainHash returns the chain hash of e (see AuditHasher.Sum).
func (e AuditEvent) ChainHash() AuditHash {
	var h AuditHasher
	return h.Sum(e)
}

// AuditCheckpoint is a signed statement of a shop's chain head (AUD-4): the
// chain had Size events (the head's Seq) and its head had Hash. Note is
// the signed note (golang.org/x/mod/sumdb/note format) whose text states
// the same; the core writes and checks it, stores keep it verbatim.
// Checkpoints are insert-only: stores refuse to update or delete them.
type AuditCheckpoint struct {
	ShopID ShopID // set by the store from the unit of work
	// N orders a shop's checkpoints: 1, 2, 3, … in the order they were
	// added, assigned by the store.
	N         int64
	Size      int64
	Hash      AuditHash
	Note      string
	CreatedAt time.Time // stamped by the store
}

// MaxAuditCheckpointNote is the longest note a store accepts, in bytes.
const MaxAuditCheckpointNote = 8 << 10

// Validate checks a checkpoint before it is added.
func (c AuditCheckpoint) Validate() error {
	if c.Size < 1 {
		return Invalid("size", "must be at least 1")
	}
	if c.Hash.IsZero() {
		return Invalid("hash", "must be set")
	}
	if c.Note == "" || len(c.Note) > MaxAuditCheckpointNote {
		return Invalid("note", "must be 1 to 8192 bytes")
	}
	return nil
}

// AuditCheckpointQuery selects a page of a shop's checkpoints in N order.
type AuditCheckpointQuery struct {
	AfterN int64 // return checkpoints with N > AfterN
	Limit  int   // at most this many; 0 means 100; capped at 1000
}

// PageLimit is the number of checkpoints a List call returns at most.
func (q AuditCheckpointQuery) PageLimit() int {
	return AuditQuery{Limit: q.Limit}.PageLimit()
}

// AuditCheckpointRepo keeps the signed checkpoints of the unit of work's
// shop. Like the log it has no update and no delete.
type AuditCheckpointRepo interface {
	// Add stores c, assigning ShopID, the next N and CreatedAt, and returns
	// the stored checkpoint. The store (its database, not only the
	// adapter) refuses with ErrInvalid a checkpoint the log does not
	// state: the shop's event at seq Size must carry Hash, and Size must
	// be no smaller than any earlier checkpoint's. It does not check the
	// signature (verification does), and a stored checkpoint that the log
	// later contradicts, edited below the port, stays visible to
	// verification. ErrInvalid for a malformed checkpoint; ErrNotFound for
	// an unknown shop; ErrConflict when another checkpoint of the shop was
	// added concurrently (retry).
	Add(ctx context.Context, c AuditCheckpoint) (AuditCheckpoint, error)
	// List returns a page of this shop's checkpoints in N order.
	List(ctx context.Context, q AuditCheckpointQuery) ([]AuditCheckpoint, error)
	// Latest returns the checkpoint with the highest N, or ErrNotFound.
	Latest(ctx context.Context) (AuditCheckpoint, error)
}

// AuditShopLister is implemented by stores that can list every shop, for
// tools that verify or checkpoint all shops' logs at once (the audit
// CLI). It reads the shop directory only, never a tenant's rows.
type AuditShopLister interface {
	// AuditShops returns up to limit shop IDs greater than after, in
	// ascending order; a zero after starts at the first.
	AuditShops(ctx context.Context, after ShopID, limit int) ([]ShopID, error)
}
