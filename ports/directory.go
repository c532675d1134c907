package ports

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Org is an HQ that owns one or more shops. Orgs are global rows.
type Org struct {
	ID        OrgID
	Name      string
	CreatedAt time.Time
}

// ShopStatus is the lifecycle state of a shop.
type ShopStatus string

// Shop states. A suspended shop keeps its data but serves no requests.
const (
	ShopActive    ShopStatus = "active"
	ShopSuspended ShopStatus = "suspended"
)

// Shop is the tenant. The shop row itself lives in the global directory so
// that a request's host can be resolved to a shop before any unit of work is
// bound to it; everything a shop owns lives in tenant tables.
type Shop struct {
	ID        ShopID
	OrgID     OrgID
	Slug      string // DNS label: the shop's host is {Slug}.{base domain}
	Name      string
	Status    ShopStatus
	CreatedAt time.Time
}

// User is a global account. Users join shops through memberships.
type User struct {
	ID        UserID
	Email     string // normalised by NormalizeEmail; unique
	Name      string
	CreatedAt time.Time
	// VerifiedAt is when the account's mailbox was first proven (a mailed
	// link followed, or an identity provider's verified e-mail), or when
	// an operator created it; zero while it never was. A password signs
	// in only once it is set (AUTH-16).
	VerifiedAt time.Time
}

// OrgRepo keeps orgs. Safe for use only within the unit of work that
// handed it out.
type OrgRepo interface {
	// Create stores o, stamping CreatedAt from the store's clock, and
	// returns the stored org. ErrConflict if o.ID exists; ErrInvalid for a
	// zero ID or a bad name.
	Create(ctx context.Context, o Org) (Org, error)
	// Get returns the org or ErrNotFound.
	Get(ctx context.Context, id OrgID) (Org, error)
	// List returns a page of orgs ordered by CreatedAt, then ID, each
	// with the number of shops it owns (the count as of the read).
	// ErrNotFound if q.After names no org.
	List(ctx context.Context, q OrgQuery) ([]OrgListing, error)
}

// ShopRepo is the global shop directory.
type ShopRepo interface {
	// Create stores s, stamping CreatedAt, and returns the stored shop.
	// ErrInvalid for a bad slug (see
	// ValidateSlug), an empty name, a zero ID or an unknown status;
	// ErrConflict if the ID or slug is taken; ErrNotFound if s.OrgID names
	// no org.
	Create(ctx context.Context, s Shop) (Shop, error)
	// Get returns the shop or ErrNotFound.
	Get(ctx context.Context, id ShopID) (Shop, error)
	// GetBySlug returns the shop whose slug is slug (compared
	// case-insensitively) or ErrNotFound.
	GetBySlug(ctx context.Context, slug string) (Shop, error)
	// ListByOrg returns the org's shops ordered by creation.
	ListByOrg(ctx context.Context, org OrgID) ([]Shop, error)
	// List returns a page of every org's shops, in any status, ordered by
	// CreatedAt, then ID. ErrNotFound if q.After names no shop.
	List(ctx context.Context, q ShopQuery) ([]Shop, error)
	// SetStatus changes a shop's status. ErrNotFound for an unknown shop,
	// ErrInvalid for an unknown status.
	SetStatus(ctx context.Context, id ShopID, status ShopStatus) error
}

// UserRepo keeps global user accounts.
type UserRepo interface {
	// Create stores u with its e-mail normalised and CreatedAt stamped
	// (VerifiedAt is stored as given: zero for an unverified account), and
	// returns the stored user. ErrConflict if the ID or
	// the normalised e-mail is taken; ErrInvalid for a zero ID or a
	// malformed e-mail.
	Create(ctx context.Context, u User) (User, error)
	// Get returns the user or ErrNotFound.
	Get(ctx context.Context, id UserID) (User, error)
	// GetMany is Get for several users in one read: each known user of
	// ids, by ID. An unknown ID (where Get returns ErrNotFound) is missing
	// from the map, so a caller that needs every user compares lengths or
	// looks each up; an ID named twice is read once; no IDs (nil or empty)
	// is an empty map without a read. ErrInvalid for more than MaxBatch
	// IDs: a caller with a longer list reads it in chunks of MaxBatch
	// (in one unit of work, if the chunks must agree).
	GetMany(ctx context.Context, ids []UserID) (map[UserID]User, error)
	// GetByEmail returns the user whose normalised e-mail equals
	// NormalizeEmail(email), or ErrNotFound.
	GetByEmail(ctx context.Context, email string) (User, error)
	// List returns a page of user accounts ordered by CreatedAt, then
	// ID. ErrNotFound if q.After names no user.
	List(ctx context.Context, q UserQuery) ([]User, error)
	// EndSessions makes every session of the user, in every shop, that was
	// created before at stop working (a password change or reset signs the
	// user out everywhere without touching other shops' rows). A time
	// earlier than one already set changes nothing. ErrNotFound for an
	// unknown user.
	EndSessions(ctx context.Context, id UserID, at time.Time) error
	// SessionsValidAfter returns the latest time EndSessions set, or the
	// zero time. ErrNotFound for an unknown user.
	SessionsValidAfter(ctx context.Context, id UserID) (time.Time, error)
	// MarkVerified sets the user's VerifiedAt to at unless it is set
	// already, atomically, and reports whether this call set it (the
	// account's first mailbox proof: of two concurrent calls exactly one
	// reports true). ErrNotFound for an unknown user.
	MarkVerified(ctx context.Context, id UserID, at time.Time) (first bool, err error)
	// Shops returns the IDs of the shops the user is a member of, in no
	// particular order: the one read across shops a global unit of work
	// may make, so that a change to the account (a password reset) can be
	// audited in each of them. It reveals no other tenant data. An unknown
	// user has none.
	Shops(ctx context.Context, id UserID) ([]ShopID, error)
}

// UsersByID is UserRepo.GetMany for any number of IDs: it reads them in
// chunks of MaxBatch, through r (so in r's unit of work), and returns the
// known users by ID, as GetMany does.
func UsersByID(ctx context.Context, r UserRepo, ids []UserID) (map[UserID]User, error) {
	out := make(map[UserID]User, len(ids))
	for start := 0; start < len(ids); start += MaxBatch {
		chunk, err := r.GetMany(ctx, ids[start:min(start+MaxBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		for id, u := range chunk {
			out[id] = u
		}
	}
	return out, nil
}

// MemberAccount is a membership with its account's e-mail address and
// name, as a shop's member list shows it.
type MemberAccount struct {
	Membership
	Email string
	Name  string
}

// MemberAccounts returns ms, in order, each with its account's e-mail
// address and name, read through r (UsersByID: one read per MaxBatch
// members, in r's unit of work). ErrNotFound names a member whose account
// is missing.
func MemberAccounts(ctx context.Context, r UserRepo, ms []Membership) ([]MemberAccount, error) {
	ids := make([]UserID, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := UsersByID(ctx, r, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MemberAccount, len(ms))
	for i, m := range ms {
		u, ok := users[m.UserID]
		if !ok {
			return nil, fmt.Errorf("user %s: %w", m.UserID, ErrNotFound)
		}
		out[i] = MemberAccount{Membership: m, Email: u.Email, Name: u.Name}
	}
	return out, nil
}

// The directory listings (OrgRepo.List, ShopRepo.List, UserRepo.List) are
// an operator's view of the global directory: keyset pages in creation
// order, (CreatedAt, ID), so that a page continues where the last one
// ended even while rows are added.
const (
	// DefaultDirectoryPageSize is the page a directory listing returns
	// when its query's Limit is not positive.
	DefaultDirectoryPageSize = 100
	// MaxDirectoryPageSize is the largest page a directory listing
	// returns.
	MaxDirectoryPageSize = 1000
)

// OrgListing is an org as OrgRepo.List returns it.
type OrgListing struct {
	Org
	// Shops is the number of shops the org owns, in any status.
	Shops int
}

// OrgQuery selects a page of orgs, oldest first.
type OrgQuery struct {
	// After continues after this org (the last of the previous page);
	// zero starts at the oldest.
	After OrgID
	// Limit is the page size: DefaultDirectoryPageSize when not positive,
	// at most MaxDirectoryPageSize.
	Limit int
}

// PageLimit is the number of orgs a List call returns at most.
func (q OrgQuery) PageLimit() int { return directoryPageLimit(q.Limit) }

// ShopQuery selects a page of shops, oldest first.
type ShopQuery struct {
	// After continues after this shop (the last of the previous page);
	// zero starts at the oldest.
	After ShopID
	// Limit is the page size: DefaultDirectoryPageSize when not positive,
	// at most MaxDirectoryPageSize.
	Limit int
}

// PageLimit is the number of shops a List call returns at most.
func (q ShopQuery) PageLimit() int { return directoryPageLimit(q.Limit) }

// UserQuery selects a page of user accounts, oldest first.
type UserQuery struct {
	// After continues after this user (the last of the previous page);
	// zero starts at the oldest.
	After UserID
	// Limit is the page size: DefaultDirectoryPageSize when not positive,
	// at most MaxDirectoryPageSize.
	Limit int
}

// PageLimit is the number of users a List call returns at most.
func (q UserQuery) PageLimit() int { return directoryPageLimit(q.Limit) }

func directoryPageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultDirectoryPageSize
	case limit > MaxDirectoryPageSize:
		return MaxDirectoryPageSize
	}
	return limit
}

// NormalizeEmail trims surrounding space and lower-cases the address, so
// that one mailbox is one account.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ValidateEmail checks the shape of an already normalised address: one @,
// non-empty local part and domain, no spaces or control characters, at most
// 254 bytes (RFC 5321). Deliverability is proven by sending, not by regex.
func ValidateEmail(email string) error {
	if email == "" || len(email) > 254 || !utf8.ValidString(email) {
		return Invalid("email", "must be an address of at most 254 bytes")
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.Count(email, "@") != 1 {
		return Invalid("email", "must look like name@example.com")
	}
	for _, r := range email {
		if r <= ' ' || r == 0x7f {
			return Invalid("email", "must not contain spaces or control characters")
		}
	}
	return nil
}

// ValidateSlug checks that slug can be a shop's DNS label: 3 to 63
// characters of a-z, 0-9 and '-', not starting or ending with '-'.
// Slugs are case-insensitive and stored lower-case.
func ValidateSlug(slug string) error {
	if len(slug) < 3 || len(slug) > 63 {
		return Invalid("slug", "must be 3 to 63 characters")
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(slug)-1:
		default:
			return Invalid("slug", "must be lower-case letters, digits and inner hyphens")
		}
	}
	return nil
}

// ValidateName checks a display name: 1 to 200 characters of valid UTF-8
// with no control characters.
func ValidateName(field, name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return Invalid(field, "must be 1 to 200 characters")
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// Validate checks an org before it is stored.
func (o Org) Validate() error {
	if o.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	return ValidateName("name", o.Name)
}

// Validate checks a shop before it is stored.
func (s Shop) Validate() error {
	if s.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if s.OrgID.IsZero() {
		return Invalid("org_id", "must be set")
	}
	if err := ValidateSlug(s.Slug); err != nil {
		return err
	}
	if err := ValidateName("name", s.Name); err != nil {
		return err
	}
	return ValidateShopStatus(s.Status)
}

// ValidateShopStatus returns ErrInvalid for an unknown status.
func ValidateShopStatus(s ShopStatus) error {
	if s != ShopActive && s != ShopSuspended {
		return Invalid("status", "must be active or suspended")
	}
	return nil
}

// Validate checks a user before it is stored; the e-mail must already be
// normalised (stores normalise before they validate).
func (u User) Validate() error {
	if u.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if u.Name == "" {
		return nil
	}
	return ValidateName("name", u.Name)
}
