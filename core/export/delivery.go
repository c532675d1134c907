package export

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// JobKind is the kind of the background job that writes a requested
// export into the object store (Delivery.RunJob handles it, outside any
// unit of work).
const JobKind = "shop.export"

// ActionRequested is the audit action of an export request, committed
// with its job.
const ActionRequested = "shop.export_requested"

// DefaultLinkTTL is how long a delivered archive, and every link to it,
// lives when DeliveryConfig.TTL is zero.
const DefaultLinkTTL = 24 * time.Hour

// MaxLinkTTL bounds DeliveryConfig.TTL.
const MaxLinkTTL = 7 * 24 * time.Hour

// linkContext separates the link MAC from every other use of its keys.
const linkContext = "stockade export link v1"

// ArchivePrefix is the prefix of shop's delivered archives in the object
// store, with its slash: under the shop's prefix (so the shop's deletion
// removes them) in a segment no file kind can name (kinds start with a
// letter).
func ArchivePrefix(shop ports.ShopID) string { return "shops/" + shop.String() + "/_exports/" }

// ArchiveKey is the object key of the archive of export id.
func ArchiveKey(shop ports.ShopID, id ports.JobID) string {
	return ArchivePrefix(shop) + id.String() + ".zip"
}

// DeliveryDeps are a Delivery's collaborators; all but Clock, Policy and
// TempDir are required.
type DeliveryDeps struct {
	Exporter *Exporter
	Store    ports.Store
	Objects  ports.ObjectStore
	// LinkKeys sign download links (HMAC-SHA256), the first signing and
	// every one verifying, so keys can rotate; each at least 32 bytes.
	LinkKeys [][]byte
	Clock    ports.Clock
	Policy   *access.Policy
	// TempDir holds an archive while it is written, before it is stored
	// (the object store needs its size up front); "" is os.TempDir().
	TempDir string
}

// DeliveryConfig tunes a Delivery.
type DeliveryConfig struct {
	// TTL is how long an archive and its links live after the archive is
	// written: DefaultLinkTTL when zero, at most MaxLinkTTL.
	TTL time.Duration
}

// Delivery exports shops in the background and hands the archive out
// through an expiring signed link (LIFE-1): Request enqueues a job,
// RunJob writes the archive into the object store under ArchivePrefix,
// Status gives the requester the link, and Open serves the link.
//
// A link is the archive's export ID, its expiry and an HMAC-SHA256 over
// the shop, the export ID and the expiry, base64url: it is bound to one
// archive of one shop, cannot be extended or moved to another archive or
// shop without the key, and is never stored (nothing to steal from the
// database). Its expiry is the archive's: the time it was written plus
// TTL, after which links are refused and housekeeping deletes the
// archive (SweepExpired). Safe for concurrent use.
type Delivery struct {
	d   DeliveryDeps
	ttl time.Duration
}

// NewDelivery returns a Delivery. ErrInvalid for a missing dependency, no
// key or a key shorter than 32 bytes, or a TTL out of range.
func NewDelivery(d DeliveryDeps, cfg DeliveryConfig) (*Delivery, error) {
	if d.Exporter == nil || d.Store == nil || d.Objects == nil {
		return nil, ports.Invalid("export delivery deps", "exporter, store and objects are required")
	}
	if len(d.LinkKeys) == 0 {
		return nil, ports.Invalid("export link keys", "at least one key is required")
	}
	for _, k := range d.LinkKeys {
		if len(k) < 32 {
			return nil, ports.Invalid("export link keys", "each key must have at least 32 bytes")
		}
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultLinkTTL
	}
	if cfg.TTL < time.Minute || cfg.TTL > MaxLinkTTL {
		return nil, ports.Invalid("export link ttl", fmt.Sprintf("must be 1m to %s", MaxLinkTTL))
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	return &Delivery{d: d, ttl: cfg.TTL}, nil
}

// jobPayload is what a requested export's job carries: who asked (the
// export runs as them) and why.
type jobPayload struct {
	User   string `json:"user,omitempty"`   // a member's user ID
	System string `json:"system,omitempty"` // an operator's system scope name
	Reason string `json:"reason,omitempty"`
}

// Request asks for an export of the caller's shop and returns its ID (the
// ID of its job). The caller needs what Export needs: access.ShopExport
// (Owner), not under HQ access or impersonation, or a system scope (an
// operator) with a reason. The job and a "shop.export_requested" audit
// event commit together; the export itself is audited again before it
// reads anything ("shop.exported", attempted), when the job runs.
func (x *Delivery) Request(ctx context.Context, opt Options) (ports.JobID, error) {
	sc, err := x.d.Policy.Require(ctx, access.ShopExport)
	if err != nil {
		return ports.JobID{}, err
	}
	if err := checkCaller(sc, opt); err != nil {
		return ports.JobID{}, err
	}
	p := jobPayload{System: sc.System, Reason: opt.Reason}
	if sc.System == "" {
		p.User = sc.User.String()
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return ports.JobID{}, err
	}
	id := ports.NewJobID()
	err = x.d.Store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: id, Kind: JobKind, Payload: payload, MaxAttempts: 3}); err != nil {
			return err
		}
		after := map[string]string{}
		if opt.Reason != "" {
			after["reason"] = opt.Reason
		}
		_, err := audit.Append(ctx, tx, x.d.Clock, audit.Change{Action: ActionRequested, Target: "export:" + id.String(), After: after})
		return err
	})
	if err != nil {
		return ports.JobID{}, fmt.Errorf("export: request: %w", err)
	}
	return id, nil
}

// checkCaller refuses impersonation, HQ access, an operator without a
// reason and a reason too long.
func checkCaller(sc access.Scope, opt Options) error {
	if sc.Impersonator != "" || sc.HQ {
		return fmt.Errorf("export: an export is the shop owner's or an operator's, not under impersonation or HQ access: %w", ports.ErrForbidden)
	}
	if sc.System != "" && opt.Reason == "" {
		return ports.Invalid("reason", "an operator's export needs a reason")
	}
	if len(opt.Reason) > maxReason {
		return ports.Invalid("reason", fmt.Sprintf("must be at most %d bytes", maxReason))
	}
	return nil
}

// RunJob writes the archive of a requested export (a JobKind job, as a
// jobs.OutsideHandler). It runs as the requester: a member must still be
// an Owner of the shop (else the job ends dead, nothing exported); an
// operator's system scope is restored with its reason. The archive is
// spooled to a temporary file (deleted afterwards), then stored at
// ArchiveKey. A job run again after its archive was stored does nothing.
func (x *Delivery) RunJob(ctx context.Context, job ports.Job) error {
	if job.Kind != JobKind {
		return jobs.Permanent(fmt.Errorf("export job: kind %q: %w", job.Kind, ports.ErrInvalid))
	}
	var p jobPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("export job: payload: %w", err))
	}
	shop := job.ShopID
	key := ArchiveKey(shop, job.ID)
	if _, err := x.d.Objects.Stat(ctx, key); err == nil {
		return nil // stored by an earlier attempt
	} else if !errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("export job: %w", err)
	}
	ctx, err := x.requester(ctx, shop, p)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(x.d.TempDir, "stockade-export-*.zip")
	if err != nil {
		return fmt.Errorf("export job: spool: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := x.d.Exporter.Export(ctx, f, Options{Reason: p.Reason}); err != nil {
		if errors.Is(err, ports.ErrForbidden) || errors.Is(err, ports.ErrInvalid) {
			return jobs.Permanent(err)
		}
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("export job: spool: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export job: spool: %w", err)
	}
	if err := x.d.Objects.Put(ctx, key, f, size, "application/zip"); err != nil {
		return fmt.Errorf("export job: store the archive: %w", err)
	}
	return nil
}

// requester returns ctx carrying the scope of the export's requester.
func (x *Delivery) requester(ctx context.Context, shop ports.ShopID, p jobPayload) (context.Context, error) {
	var self ports.Shop
	var m ports.Membership
	var user ports.UserID
	if p.User != "" {
		var err error
		if user, err = ports.ParseUserID(p.User); err != nil {
			return nil, jobs.Permanent(fmt.Errorf("export job: user: %w", err))
		}
	}
	err := x.d.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if self, err = tx.ThisShop().Get(ctx); err != nil {
			return err
		}
		if p.User != "" {
			m, err = tx.Memberships().Get(ctx, user)
		}
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, jobs.Permanent(fmt.Errorf("export job: the requester is no longer a member: %w", ports.ErrForbidden))
	case err != nil:
		return nil, fmt.Errorf("export job: %w", err)
	case p.User == "" && p.System != "":
		return access.System(ctx, shop, self.OrgID, p.System), nil
	case p.User == "":
		return nil, jobs.Permanent(fmt.Errorf("export job: no requester: %w", ports.ErrInvalid))
	}
	return access.With(ctx, access.Scope{Shop: shop, Org: self.OrgID, User: user, Role: m.Role}), nil
}

// ExportStatus is where a requested export is.
type ExportStatus struct {
	ID    ports.JobID
	State ports.JobState // the job's: queued, running, done or dead
	// Link and ExpiresAt are set once the archive is stored and until it
	// expires: the signed link (a secret; hand it to the requester only).
	Link      string
	ExpiresAt time.Time
	Bytes     int64
	// Expired is set when the archive was stored and has expired (or was
	// deleted).
	Expired bool
}

// Status returns the state of the caller's shop's export id and, once
// its archive is stored and until it expires, a signed link to it. The
// caller needs what Request needs. ErrNotFound for an ID that is no
// export of the shop.
func (x *Delivery) Status(ctx context.Context, id ports.JobID) (ExportStatus, error) {
	sc, err := x.d.Policy.Require(ctx, access.ShopExport)
	if err != nil {
		return ExportStatus{}, err
	}
	if sc.Impersonator != "" || sc.HQ {
		return ExportStatus{}, fmt.Errorf("export status: not under impersonation or HQ access: %w", ports.ErrForbidden)
	}
	var job ports.Job
	err = x.d.Store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		job, err = tx.Jobs().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	if err == nil && job.Kind != JobKind {
		err = fmt.Errorf("export %s: %w", id, ports.ErrNotFound)
	}
	if err != nil {
		return ExportStatus{}, fmt.Errorf("export status: %w", err)
	}
	st := ExportStatus{ID: id, State: job.State}
	if job.State != ports.JobDone {
		return st, nil
	}
	info, err := x.d.Objects.Stat(ctx, ArchiveKey(sc.Shop, id))
	if errors.Is(err, ports.ErrNotFound) {
		st.Expired = true
		return st, nil
	}
	if err != nil {
		return ExportStatus{}, fmt.Errorf("export status: %w", err)
	}
	st.ExpiresAt = info.ModTime.Add(x.ttl).UTC().Truncate(time.Second)
	if !x.d.Clock.Now().Before(st.ExpiresAt) {
		st.Expired, st.ExpiresAt = true, time.Time{}
		return st, nil
	}
	st.Link, st.Bytes = x.sign(0, sc.Shop, id, st.ExpiresAt), info.Size
	return st, nil
}

// Link returns a signed link to the stored archive of export id of shop,
// expiring with the archive: for the CLI, which runs as the platform.
// ErrNotFound when the archive is not stored or has expired.
func (x *Delivery) Link(ctx context.Context, shop ports.ShopID, id ports.JobID) (string, time.Time, error) {
	info, err := x.d.Objects.Stat(ctx, ArchiveKey(shop, id))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("export link: %w", err)
	}
	exp := info.ModTime.Add(x.ttl).UTC().Truncate(time.Second)
	if !x.d.Clock.Now().Before(exp) {
		return "", time.Time{}, fmt.Errorf("export link: the archive has expired: %w", ports.ErrNotFound)
	}
	return x.sign(0, shop, id, exp), exp, nil
}

// linkLen is a link's length in bytes before base64url: export ID, expiry
// (Unix seconds), MAC.
const linkLen = 16 + 8 + sha256.Size

// sign returns the link to archive id of shop expiring at exp, under key
// number k.
func (x *Delivery) sign(k int, shop ports.ShopID, id ports.JobID, exp time.Time) string {
	b := make([]byte, 0, linkLen)
	b = append(b, id.UUID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(exp.Unix()))
	b = append(b, x.mac(k, shop, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// mac is the HMAC under key k of the link's body, bound to shop.
func (x *Delivery) mac(k int, shop ports.ShopID, body []byte) []byte {
	h := hmac.New(sha256.New, x.d.LinkKeys[k])
	h.Write([]byte(linkContext))
	h.Write([]byte{0})
	h.Write([]byte(shop.String()))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

// errBadLink is every refusal of a link: unknown, malformed, altered,
// another shop's, expired, or its archive gone. One error, so an answer
// says nothing about why.
var errBadLink = fmt.Errorf("export link: not valid: %w", ports.ErrNotFound)

// Open checks link, presented on shop's host, and opens the archive it
// names. Any refusal — malformed, altered, another shop's, expired, the
// archive deleted — is the same error matching ErrNotFound. The caller
// must Close the reader.
func (x *Delivery) Open(ctx context.Context, shop ports.ShopID, link string) (io.ReadCloser, ports.ObjectInfo, error) {
	b, err := base64.RawURLEncoding.DecodeString(link)
	if err != nil || len(b) != linkLen || shop.IsZero() {
		return nil, ports.ObjectInfo{}, errBadLink
	}
	body, sum := b[:16+8], b[16+8:]
	ok := false
	for k := range x.d.LinkKeys {
		if hmac.Equal(sum, x.mac(k, shop, body)) {
			ok = true
		}
	}
	if !ok {
		return nil, ports.ObjectInfo{}, errBadLink
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(body[16:])), 0)
	if !x.d.Clock.Now().Before(exp) {
		return nil, ports.ObjectInfo{}, errBadLink
	}
	var id ports.JobID
	copy(id.UUID[:], body[:16])
	rc, info, err := x.d.Objects.Get(ctx, ArchiveKey(shop, id), 0, -1)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, ports.ObjectInfo{}, errBadLink
	}
	if err != nil {
		return nil, ports.ObjectInfo{}, fmt.Errorf("export link: %w", err)
	}
	return rc, info, nil
}

// SweepExpired deletes shop's archives written at least TTL before now
// (their links have expired) and returns how many.
func (x *Delivery) SweepExpired(ctx context.Context, shop ports.ShopID) (int, error) {
	return SweepArchives(ctx, x.d.Objects, shop, x.d.Clock.Now().Add(-x.ttl))
}

// SweepArchives deletes shop's archives in objects written at or before
// cutoff and returns how many (housekeeping's side of SweepExpired).
func SweepArchives(ctx context.Context, objects ports.ObjectStore, shop ports.ShopID, cutoff time.Time) (int, error) {
	n := 0
	for token := ""; ; {
		page, err := objects.List(ctx, ArchivePrefix(shop), token, ports.MaxListPageSize)
		if err != nil {
			return n, fmt.Errorf("list export archives: %w", err)
		}
		for _, o := range page.Objects {
			if o.ModTime.After(cutoff) {
				continue
			}
			if err := objects.Delete(ctx, o.Key); err != nil {
				return n, fmt.Errorf("delete export archive: %w", err)
			}
			n++
		}
		if token = page.NextPageToken; token == "" {
			return n, nil
		}
	}
}
