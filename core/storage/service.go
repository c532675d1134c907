// Package storage holds the file use cases (STO-1…STO-4): uploads streamed
// through the server or by a signed PUT and a finalize step, downloads by
// short-lived signed URLs, listing and audited deletion — each checked
// against the caller's role in the caller's shop before anything is
// touched (TEN-2).
//
// The core, never a caller, names objects: shops/{shopID}/{kind}/{fileID}
// (STO-2). Metadata is a tenant row (ports.FileRepo, STO-3), written
// pending before the object and made ready only after the object's size,
// SHA-256 and sniffed content type have been checked; a failed upload
// deletes both, so nothing is left behind.
package storage

import (
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Expiries of the URLs the service issues.
const (
	// UploadURLExpiry is how long a signed PUT URL stays valid.
	UploadURLExpiry = 15 * time.Minute
	// DownloadURLExpiry is how long a signed GET URL stays valid.
	DownloadURLExpiry = 5 * time.Minute
)

// The permission matrix of files (access.DefaultGrants): every role reads
// (list, download URL, content); owners, admins, techs and sales staff
// upload (stream, signed PUT, finalize); owners and admins delete —
// deleting destroys evidence (photos, certificates) and is kept to the
// shop's managers. Each use case takes the caller's shop from its
// access.Scope, never from an argument.

// Deps are the service's collaborators.
type Deps struct {
	Store   ports.Store       // required
	Objects ports.ObjectStore // required
	// Clock dates audit events and signed content links; nil is the
	// system clock.
	Clock ports.Clock
	// Rules are the accepted kinds; nil is DefaultRules().
	Rules map[string]KindRule
	// ContentKey signs the server's own content links (the decrypting
	// route for encrypted files): at least 32 random bytes. Required when
	// any shop is encrypted.
	ContentKey []byte
	// Keys wraps per-object data keys under each shop's key (STO-4);
	// required when EncryptShop can answer true.
	Keys KeyWrapper
	// EncryptShop reports whether a shop's new files are envelope
	// encrypted; nil encrypts none.
	EncryptShop func(ports.ShopID) bool
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
}

// Service runs the file use cases. It is safe for concurrent use.
type Service struct {
	store      ports.Store
	objects    ports.ObjectStore
	clock      ports.Clock
	rules      map[string]KindRule
	contentKey []byte
	keys       KeyWrapper
	encrypt    func(ports.ShopID) bool
	policy     *access.Policy
}

// MinContentKeyLen is the shortest accepted Deps.ContentKey.
const MinContentKeyLen = 32

// New returns the service. ErrInvalid for missing dependencies or a bad
// rule.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Objects == nil {
		return nil, ports.Invalid("storage deps", "store and object store are required")
	}
	s := &Service{store: d.Store, objects: d.Objects, clock: d.Clock, rules: d.Rules, keys: d.Keys, encrypt: d.EncryptShop, policy: d.Policy}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.rules == nil {
		s.rules = DefaultRules()
	}
	for kind, r := range s.rules {
		if err := r.validate(kind); err != nil {
			return nil, err
		}
	}
	if s.encrypt == nil {
		s.encrypt = func(ports.ShopID) bool { return false }
	} else if s.keys == nil {
		return nil, ports.Invalid("storage deps", "EncryptShop needs a key manager")
	}
	if d.ContentKey != nil || d.EncryptShop != nil {
		if len(d.ContentKey) < MinContentKeyLen {
			return nil, ports.Invalid("content key", fmt.Sprintf("must be at least %d bytes", MinContentKeyLen))
		}
		s.contentKey = append([]byte(nil), d.ContentKey...)
	}
	return s, nil
}

// ObjectKey is the key under which the core stores a file's object:
// shops/{shop}/{kind}/{id}. Callers never name keys (STO-2).
func ObjectKey(shop ports.ShopID, kind string, id ports.FileID) string {
	return "shops/" + shop.String() + "/" + kind + "/" + id.String()
}

// ShopPrefix is the prefix of every object key of shop, with its slash.
func ShopPrefix(shop ports.ShopID) string { return "shops/" + shop.String() + "/" }

// StagingKey is the key a signed PUT URL of file id writes to:
// shops/{shop}/_staging/{id}. It is the only key the core ever signs for
// PUT. Finalize moves the object from there to a key that was never
// signed (see promotedKey), so that a PUT through the URL after Finalize,
// or after the file was deleted, never reaches a file (STO-3). Kinds start
// with a letter, so "_staging" is no kind's segment.
func StagingKey(shop ports.ShopID, id ports.FileID) string {
	return StagingPrefix(shop) + id.String()
}

// StagingPrefix is the prefix of every staging key of shop, with its
// slash; housekeeping deletes what lies there longer than a grace period.
func StagingPrefix(shop ports.ShopID) string { return ShopPrefix(shop) + "_staging/" }
