package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// SCIM implements ports.GlobalTx.
func (t *Global) SCIM() ports.SCIMRepo { return scimRepo{t} }

// scimRepo keeps the orgs' SCIM directories: global org-level rows, every
// statement of which binds org_id, so an id of another org matches
// nothing.
type scimRepo struct{ t *Global }

var _ ports.SCIMRepo = scimRepo{}

type scimTokenRow struct {
	OrgID     ports.OrgID       `db:"org_id"`
	ID        ports.SCIMTokenID `db:"id"`
	TokenHash []byte            `db:"token_hash"`
	CreatedBy *ports.UserID     `db:"created_by"`
	CreatedAt Time              `db:"created_at"`
	RevokedAt Time              `db:"revoked_at"`
}

const scimTokenCols = `org_id, id, token_hash, created_by, created_at, revoked_at`

func (r scimTokenRow) port() ports.SCIMToken {
	tok := ports.SCIMToken{ID: r.ID, OrgID: r.OrgID, TokenHash: r.TokenHash, CreatedAt: r.CreatedAt.Time, RevokedAt: r.RevokedAt.Time}
	if r.CreatedBy != nil {
		tok.CreatedBy = *r.CreatedBy
	}
	return tok
}

func (r scimRepo) CreateToken(ctx context.Context, tok ports.SCIMToken) (ports.SCIMToken, error) {
	switch {
	case tok.ID.IsZero():
		return ports.SCIMToken{}, ports.Invalid("id", "must be set")
	case tok.OrgID.IsZero():
		return ports.SCIMToken{}, ports.Invalid("org_id", "must be set")
	case len(tok.TokenHash) != ports.TokenHashSize:
		return ports.SCIMToken{}, ports.Invalid("token_hash", "must be a SHA-256")
	}
	tok.TokenHash = cloneBytes(tok.TokenHash)
	tok.CreatedAt, tok.RevokedAt = r.t.now(), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO scim_tokens (org_id, id, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
		tok.OrgID, tok.ID, tok.TokenHash, optionalUser(tok.CreatedBy), tok.CreatedAt)
	if err != nil {
		return ports.SCIMToken{}, r.t.wrap("create scim token", err)
	}
	return tok, nil
}

func (r scimRepo) TokenByHash(ctx context.Context, hash []byte) (ports.SCIMToken, error) {
	var row scimTokenRow
	err := r.t.get(ctx, &row, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE token_hash = ? AND revoked_at IS NULL`, hash)
	if err != nil {
		return ports.SCIMToken{}, r.t.wrap("get scim token", err)
	}
	return row.port(), nil
}

func (r scimRepo) ListTokens(ctx context.Context, org ports.OrgID) ([]ports.SCIMToken, error) {
	var rows []scimTokenRow
	if err := r.t.sel(ctx, &rows, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE org_id = ? ORDER BY created_at DESC, id DESC`, org); err != nil {
		return nil, r.t.wrap("list scim tokens", err)
	}
	out := make([]ports.SCIMToken, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r scimRepo) RevokeToken(ctx context.Context, org ports.OrgID, id ports.SCIMTokenID, now time.Time) (ports.SCIMToken, error) {
	var row scimTokenRow
	err := r.t.get(ctx, &row, `UPDATE scim_tokens SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL RETURNING `+scimTokenCols,
		ports.Timestamp(now), org, id)
	if err != nil {
		return ports.SCIMToken{}, r.t.wrap("revoke scim token", err)
	}
	return row.port(), nil
}

type scimUserRow struct {
	OrgID       ports.OrgID      `db:"org_id"`
	ID          ports.SCIMUserID `db:"id"`
	UserID      ports.UserID     `db:"user_id"`
	UserName    string           `db:"user_name"`
	ExternalID  string           `db:"external_id"`
	GivenName   string           `db:"given_name"`
	FamilyName  string           `db:"family_name"`
	DisplayName string           `db:"display_name"`
	Active      bool             `db:"active"`
	CreatedAt   Time             `db:"created_at"`
	UpdatedAt   Time             `db:"updated_at"`
}

const scimUserCols = `org_id, id, user_id, user_name, external_id, given_name, family_name, display_name, active, created_at, updated_at`

func (r scimUserRow) port() ports.SCIMUser {
	return ports.SCIMUser{ID: r.ID, OrgID: r.OrgID, UserID: r.UserID, UserName: r.UserName, ExternalID: r.ExternalID,
		GivenName: r.GivenName, FamilyName: r.FamilyName, DisplayName: r.DisplayName, Active: r.Active,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

func (r scimRepo) CreateUser(ctx context.Context, u ports.SCIMUser) (ports.SCIMUser, error) {
	u.UserName = ports.NormalizeEmail(u.UserName)
	if err := u.Validate(); err != nil {
		return ports.SCIMUser{}, err
	}
	u.CreatedAt = r.t.now()
	u.UpdatedAt = u.CreatedAt
	_, err := r.t.exec(ctx, `INSERT INTO scim_users (`+scimUserCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.OrgID, u.ID, u.UserID, u.UserName, u.ExternalID, u.GivenName, u.FamilyName, u.DisplayName, u.Active, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return ports.SCIMUser{}, r.t.wrap("create scim user", err)
	}
	return u, nil
}

func (r scimRepo) GetUser(ctx context.Context, org ports.OrgID, id ports.SCIMUserID) (ports.SCIMUser, error) {
	var row scimUserRow
	if err := r.t.get(ctx, &row, `SELECT `+scimUserCols+` FROM scim_users WHERE org_id = ? AND id = ?`, org, id); err != nil {
		return ports.SCIMUser{}, r.t.wrap("get scim user", err)
	}
	return row.port(), nil
}

func (r scimRepo) ListUsers(ctx context.Context, org ports.OrgID, userName string, page ports.SCIMPage) ([]ports.SCIMUser, int, error) {
	where, args := `org_id = ?`, []any{org}
	if userName != "" {
		where += ` AND user_name = ?`
		args = append(args, ports.NormalizeEmail(userName))
	}
	var total int
	if err := r.t.get(ctx, &total, `SELECT count(*) FROM scim_users WHERE `+where, args...); err != nil {
		return nil, 0, r.t.wrap("count scim users", err)
	}
	var rows []scimUserRow
	err := r.t.sel(ctx, &rows, `SELECT `+scimUserCols+` FROM scim_users WHERE `+where+` ORDER BY created_at, id LIMIT ? OFFSET ?`,
		append(args, max(page.Limit, 0), max(page.Offset, 0))...)
	if err != nil {
		return nil, 0, r.t.wrap("list scim users", err)
	}
	out := make([]ports.SCIMUser, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, total, nil
}

func (r scimRepo) UpdateUser(ctx context.Context, u ports.SCIMUser) (ports.SCIMUser, error) {
	stored, err := r.GetUser(ctx, u.OrgID, u.ID)
	if err != nil {
		return ports.SCIMUser{}, err
	}
	u.UserID, u.UserName, u.CreatedAt = stored.UserID, stored.UserName, stored.CreatedAt
	if err := u.Validate(); err != nil {
		return ports.SCIMUser{}, err
	}
	u.UpdatedAt = r.t.now()
	_, err = r.t.exec(ctx, `UPDATE scim_users SET external_id = ?, given_name = ?, family_name = ?, display_name = ?, active = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`, u.ExternalID, u.GivenName, u.FamilyName, u.DisplayName, u.Active, u.UpdatedAt, u.OrgID, u.ID)
	if err != nil {
		return ports.SCIMUser{}, r.t.wrap("update scim user", err)
	}
	return u, nil
}

func (r scimRepo) DeleteUser(ctx context.Context, org ports.OrgID, id ports.SCIMUserID) error {
	// The members and grants go first: the schema cascades too, but the
	// store does not rely on SQLite's foreign key setting for it.
	for _, q := range []string{
		`DELETE FROM scim_group_members WHERE org_id = ? AND user_id = ?`,
		`DELETE FROM scim_grants WHERE org_id = ? AND scim_user_id = ?`,
	} {
		if _, err := r.t.exec(ctx, q, org, id); err != nil {
			return r.t.wrap("delete scim user", err)
		}
	}
	n, err := r.t.exec(ctx, `DELETE FROM scim_users WHERE org_id = ? AND id = ?`, org, id)
	if err != nil {
		return r.t.wrap("delete scim user", err)
	}
	if n == 0 {
		return r.t.notFound("delete scim user")
	}
	return nil
}

type scimGroupRow struct {
	OrgID       ports.OrgID       `db:"org_id"`
	ID          ports.SCIMGroupID `db:"id"`
	DisplayName string            `db:"display_name"`
	ExternalID  string            `db:"external_id"`
	CreatedAt   Time              `db:"created_at"`
	UpdatedAt   Time              `db:"updated_at"`
}

const scimGroupCols = `org_id, id, display_name, external_id, created_at, updated_at`

func (r scimGroupRow) port() ports.SCIMGroup {
	return ports.SCIMGroup{ID: r.ID, OrgID: r.OrgID, DisplayName: r.DisplayName, ExternalID: r.ExternalID, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

func groupsOf(rows []scimGroupRow) []ports.SCIMGroup {
	out := make([]ports.SCIMGroup, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out
}

func (r scimRepo) CreateGroup(ctx context.Context, g ports.SCIMGroup) (ports.SCIMGroup, error) {
	if err := g.Validate(); err != nil {
		return ports.SCIMGroup{}, err
	}
	g.CreatedAt = r.t.now()
	g.UpdatedAt = g.CreatedAt
	_, err := r.t.exec(ctx, `INSERT INTO scim_groups (`+scimGroupCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		g.OrgID, g.ID, g.DisplayName, g.ExternalID, g.CreatedAt, g.UpdatedAt)
	if err != nil {
		return ports.SCIMGroup{}, r.t.wrap("create scim group", err)
	}
	return g, nil
}

func (r scimRepo) GetGroup(ctx context.Context, org ports.OrgID, id ports.SCIMGroupID) (ports.SCIMGroup, error) {
	var row scimGroupRow
	if err := r.t.get(ctx, &row, `SELECT `+scimGroupCols+` FROM scim_groups WHERE org_id = ? AND id = ?`, org, id); err != nil {
		return ports.SCIMGroup{}, r.t.wrap("get scim group", err)
	}
	return row.port(), nil
}

func (r scimRepo) ListGroups(ctx context.Context, org ports.OrgID, displayName string, page ports.SCIMPage) ([]ports.SCIMGroup, int, error) {
	where, args := `org_id = ?`, []any{org}
	if displayName != "" {
		where += ` AND display_name = ?`
		args = append(args, displayName)
	}
	var total int
	if err := r.t.get(ctx, &total, `SELECT count(*) FROM scim_groups WHERE `+where, args...); err != nil {
		return nil, 0, r.t.wrap("count scim groups", err)
	}
	var rows []scimGroupRow
	err := r.t.sel(ctx, &rows, `SELECT `+scimGroupCols+` FROM scim_groups WHERE `+where+` ORDER BY created_at, id LIMIT ? OFFSET ?`,
		append(args, max(page.Limit, 0), max(page.Offset, 0))...)
	if err != nil {
		return nil, 0, r.t.wrap("list scim groups", err)
	}
	return groupsOf(rows), total, nil
}

func (r scimRepo) UpdateGroup(ctx context.Context, g ports.SCIMGroup) (ports.SCIMGroup, error) {
	stored, err := r.GetGroup(ctx, g.OrgID, g.ID)
	if err != nil {
		return ports.SCIMGroup{}, err
	}
	g.CreatedAt = stored.CreatedAt
	if err := g.Validate(); err != nil {
		return ports.SCIMGroup{}, err
	}
	g.UpdatedAt = r.t.now()
	_, err = r.t.exec(ctx, `UPDATE scim_groups SET display_name = ?, external_id = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		g.DisplayName, g.ExternalID, g.UpdatedAt, g.OrgID, g.ID)
	if err != nil {
		return ports.SCIMGroup{}, r.t.wrap("update scim group", err)
	}
	return g, nil
}

func (r scimRepo) DeleteGroup(ctx context.Context, org ports.OrgID, id ports.SCIMGroupID) error {
	for _, q := range []string{
		`DELETE FROM scim_group_members WHERE org_id = ? AND group_id = ?`,
		`DELETE FROM scim_mappings WHERE org_id = ? AND group_id = ?`,
	} {
		if _, err := r.t.exec(ctx, q, org, id); err != nil {
			return r.t.wrap("delete scim group", err)
		}
	}
	n, err := r.t.exec(ctx, `DELETE FROM scim_groups WHERE org_id = ? AND id = ?`, org, id)
	if err != nil {
		return r.t.wrap("delete scim group", err)
	}
	if n == 0 {
		return r.t.notFound("delete scim group")
	}
	return nil
}

func (r scimRepo) GroupMembers(ctx context.Context, org ports.OrgID, id ports.SCIMGroupID) ([]ports.SCIMUserID, error) {
	var out []ports.SCIMUserID
	if err := r.t.sel(ctx, &out, `SELECT user_id FROM scim_group_members WHERE org_id = ? AND group_id = ? ORDER BY user_id`, org, id); err != nil {
		return nil, r.t.wrap("list scim group members", err)
	}
	return out, nil
}

func (r scimRepo) UserGroups(ctx context.Context, org ports.OrgID, user ports.SCIMUserID) ([]ports.SCIMGroup, error) {
	var rows []scimGroupRow
	err := r.t.sel(ctx, &rows, `SELECT g.org_id, g.id, g.display_name, g.external_id, g.created_at, g.updated_at
		FROM scim_group_members m JOIN scim_groups g ON g.org_id = m.org_id AND g.id = m.group_id
		WHERE m.org_id = ? AND m.user_id = ? ORDER BY g.id`, org, user)
	if err != nil {
		return nil, r.t.wrap("list scim user groups", err)
	}
	return groupsOf(rows), nil
}

// AddMember inserts the pair only when both rows are org's: the SELECT
// finds nothing for a group or user of another org.
func (r scimRepo) AddMember(ctx context.Context, org ports.OrgID, group ports.SCIMGroupID, user ports.SCIMUserID) error {
	n, err := r.t.exec(ctx, `INSERT INTO scim_group_members (org_id, group_id, user_id)
		SELECT g.org_id, g.id, u.id FROM scim_groups g JOIN scim_users u ON u.org_id = g.org_id
		WHERE g.org_id = ? AND g.id = ? AND u.id = ?
		ON CONFLICT DO NOTHING`, org, group, user)
	if err != nil {
		return r.t.wrap("add scim group member", err)
	}
	if n == 0 {
		// Either already a member, or not org's group or user.
		var found int
		err := r.t.get(ctx, &found, `SELECT count(*) FROM scim_group_members WHERE org_id = ? AND group_id = ? AND user_id = ?`, org, group, user)
		if err != nil {
			return r.t.wrap("add scim group member", err)
		}
		if found == 0 {
			return r.t.notFound("add scim group member")
		}
	}
	return nil
}

func (r scimRepo) RemoveMember(ctx context.Context, org ports.OrgID, group ports.SCIMGroupID, user ports.SCIMUserID) error {
	_, err := r.t.exec(ctx, `DELETE FROM scim_group_members WHERE org_id = ? AND group_id = ? AND user_id = ?`, org, group, user)
	return r.t.wrap("remove scim group member", err)
}

type scimMappingRow struct {
	OrgID     ports.OrgID         `db:"org_id"`
	ID        ports.SCIMMappingID `db:"id"`
	GroupID   ports.SCIMGroupID   `db:"group_id"`
	ShopID    ports.ShopID        `db:"target_shop_id"`
	Role      ports.Role          `db:"role"`
	CreatedAt Time                `db:"created_at"`
}

const scimMappingCols = `org_id, id, group_id, target_shop_id, role, created_at`

func (r scimMappingRow) port() ports.SCIMMapping {
	return ports.SCIMMapping{ID: r.ID, OrgID: r.OrgID, GroupID: r.GroupID, ShopID: r.ShopID, Role: r.Role, CreatedAt: r.CreatedAt.Time}
}

// CreateMapping inserts the mapping only when the group is org's and the
// shop is a shop of org: the SELECT finds nothing otherwise.
func (r scimRepo) CreateMapping(ctx context.Context, m ports.SCIMMapping) (ports.SCIMMapping, error) {
	switch {
	case m.ID.IsZero():
		return ports.SCIMMapping{}, ports.Invalid("id", "must be set")
	case !m.Role.Valid():
		return ports.SCIMMapping{}, ports.Invalid("role", "must be one of the roles")
	}
	m.CreatedAt = r.t.now()
	n, err := r.t.exec(ctx, `INSERT INTO scim_mappings (`+scimMappingCols+`)
		SELECT g.org_id, `+r.t.cast("?", "uuid")+`, g.id, s.id, `+r.t.cast("?", "text")+`, `+r.t.cast("?", "timestamptz")+`
		FROM scim_groups g JOIN shops s ON s.org_id = g.org_id
		WHERE g.org_id = ? AND g.id = ? AND s.id = ?`, m.ID, m.Role, m.CreatedAt, m.OrgID, m.GroupID, m.ShopID)
	if err != nil {
		return ports.SCIMMapping{}, r.t.wrap("create scim mapping", err)
	}
	if n == 0 {
		return ports.SCIMMapping{}, r.t.notFound("create scim mapping")
	}
	return m, nil
}

func (r scimRepo) ListMappings(ctx context.Context, org ports.OrgID) ([]ports.SCIMMapping, error) {
	var rows []scimMappingRow
	if err := r.t.sel(ctx, &rows, `SELECT `+scimMappingCols+` FROM scim_mappings WHERE org_id = ? ORDER BY created_at, id`, org); err != nil {
		return nil, r.t.wrap("list scim mappings", err)
	}
	out := make([]ports.SCIMMapping, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r scimRepo) DeleteMapping(ctx context.Context, org ports.OrgID, id ports.SCIMMappingID) (ports.SCIMMapping, error) {
	var row scimMappingRow
	err := r.t.get(ctx, &row, `DELETE FROM scim_mappings WHERE org_id = ? AND id = ? RETURNING `+scimMappingCols, org, id)
	if err != nil {
		return ports.SCIMMapping{}, r.t.wrap("delete scim mapping", err)
	}
	return row.port(), nil
}

type scimGrantRow struct {
	OrgID  ports.OrgID      `db:"org_id"`
	User   ports.SCIMUserID `db:"scim_user_id"`
	ShopID ports.ShopID     `db:"target_shop_id"`
	Role   ports.Role       `db:"role"`
}

func (r scimRepo) Grants(ctx context.Context, org ports.OrgID, user ports.SCIMUserID) ([]ports.SCIMGrant, error) {
	var rows []scimGrantRow
	err := r.t.sel(ctx, &rows, `SELECT org_id, scim_user_id, target_shop_id, role FROM scim_grants WHERE org_id = ? AND scim_user_id = ? ORDER BY target_shop_id`, org, user)
	if err != nil {
		return nil, r.t.wrap("list scim grants", err)
	}
	out := make([]ports.SCIMGrant, len(rows))
	for i, row := range rows {
		out[i] = ports.SCIMGrant(row)
	}
	return out, nil
}

// SetGrant upserts the grant only when the user is org's and the shop is
// a shop of org.
func (r scimRepo) SetGrant(ctx context.Context, g ports.SCIMGrant) error {
	if !g.Role.Valid() {
		return ports.Invalid("role", "must be one of the roles")
	}
	n, err := r.t.exec(ctx, `INSERT INTO scim_grants (org_id, scim_user_id, target_shop_id, role)
		SELECT u.org_id, u.id, s.id, `+r.t.cast("?", "text")+` FROM scim_users u JOIN shops s ON s.org_id = u.org_id
		WHERE u.org_id = ? AND u.id = ? AND s.id = ?
		ON CONFLICT (org_id, scim_user_id, target_shop_id) DO UPDATE SET role = excluded.role`, g.Role, g.OrgID, g.User, g.ShopID)
	if err != nil {
		return r.t.wrap("set scim grant", err)
	}
	if n == 0 {
		return r.t.notFound("set scim grant")
	}
	return nil
}

func (r scimRepo) DeleteGrant(ctx context.Context, org ports.OrgID, user ports.SCIMUserID, shop ports.ShopID) error {
	_, err := r.t.exec(ctx, `DELETE FROM scim_grants WHERE org_id = ? AND scim_user_id = ? AND target_shop_id = ?`, org, user, shop)
	return r.t.wrap("delete scim grant", err)
}
