package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Operators implements ports.GlobalTx. Postgres replaces it with a
// repository whose Credentials reads through its definer function (see
// OperatorCredentials).
func (t *Global) Operators() ports.OperatorRepo { return operators{t} }

// operators is the operator repository of one Global: global rows.
type operators struct{ t *Global }

var _ ports.OperatorRepo = operators{}

type operatorRow struct {
	ID         ports.OperatorID `db:"id"`
	Email      string           `db:"email"`
	Name       string           `db:"name"`
	CreatedAt  Time             `db:"created_at"`
	DisabledAt Time             `db:"disabled_at"`
}

const operatorCols = `id, email, name, created_at, disabled_at`

func (r operatorRow) port() ports.Operator {
	return ports.Operator{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: r.CreatedAt.Time, DisabledAt: r.DisabledAt.Time}
}

// validHash is the check every stored password hash passes.
func validHash(hash string) error {
	if hash == "" || len(hash) > 1024 {
		return ports.Invalid("password hash", "must be 1 to 1024 bytes")
	}
	return nil
}

func (r operators) Create(ctx context.Context, o ports.Operator, passwordHash string) (ports.Operator, error) {
	o.Email = ports.NormalizeEmail(o.Email)
	if err := o.Validate(); err != nil {
		return ports.Operator{}, err
	}
	if err := validHash(passwordHash); err != nil {
		return ports.Operator{}, err
	}
	o.CreatedAt, o.DisabledAt = r.t.now(), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO operators (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		o.ID, o.Email, o.Name, passwordHash, o.CreatedAt)
	if err != nil {
		return ports.Operator{}, r.t.wrap("create operator", err)
	}
	return o, nil
}

func (r operators) Get(ctx context.Context, id ports.OperatorID) (ports.Operator, error) {
	var row operatorRow
	if err := r.t.get(ctx, &row, `SELECT `+operatorCols+` FROM operators WHERE id = ?`, id); err != nil {
		return ports.Operator{}, r.t.wrap("get operator", err)
	}
	return row.port(), nil
}

// operatorCredentialsSQL reads an operator and the password hash straight
// from the table, where the database lets the store read the hash.
const operatorCredentialsSQL = `SELECT ` + operatorCols + `, password_hash FROM operators WHERE email = ?`

// Credentials reads one operator and the password hash, by e-mail.
func (r operators) Credentials(ctx context.Context, email string) (ports.Operator, string, error) {
	return r.t.OperatorCredentials(ctx, r.t.d.Rebind(operatorCredentialsSQL), email)
}

// OperatorCredentials implements ports.OperatorRepo.Credentials with stmt,
// which is sent exactly as given: neither rebound nor rewritten, since
// Postgres' stockade_operator_credentials compares the statement text with
// its own, byte for byte. stmt takes the normalised e-mail as its one
// parameter and returns the columns of one operator (id, email, name,
// created_at, disabled_at) and password_hash; no row is ErrNotFound.
func (t *Global) OperatorCredentials(ctx context.Context, stmt, email string) (ports.Operator, string, error) {
	var row struct {
		operatorRow
		Hash string `db:"password_hash"`
	}
	err := t.q.GetContext(ctx, &row, stmt, t.d.Args([]any{ports.NormalizeEmail(email)})...)
	if err != nil {
		return ports.Operator{}, "", t.wrap("operator credentials", err)
	}
	return row.port(), row.Hash, nil
}

func (r operators) SetPasswordHash(ctx context.Context, id ports.OperatorID, hash string) error {
	if err := validHash(hash); err != nil {
		return err
	}
	n, err := r.t.exec(ctx, `UPDATE operators SET password_hash = ? WHERE id = ?`, hash, id)
	if err != nil {
		return r.t.wrap("set operator password", err)
	}
	if n == 0 {
		return r.t.notFound("set operator password")
	}
	return nil
}

func (r operators) List(ctx context.Context) ([]ports.Operator, error) {
	var rows []operatorRow
	if err := r.t.sel(ctx, &rows, `SELECT `+operatorCols+` FROM operators ORDER BY email`); err != nil {
		return nil, r.t.wrap("list operators", err)
	}
	out := make([]ports.Operator, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// Disable keeps the first time an operator was disabled and ends every
// session of the operator in the same unit of work.
func (r operators) Disable(ctx context.Context, id ports.OperatorID, at time.Time) (ports.Operator, error) {
	var row operatorRow
	err := r.t.get(ctx, &row, `UPDATE operators SET disabled_at = COALESCE(disabled_at, ?)
		WHERE id = ? RETURNING `+operatorCols, at, id)
	if err != nil {
		return ports.Operator{}, r.t.wrap("disable operator", err)
	}
	if _, err := r.t.exec(ctx, `DELETE FROM operator_sessions WHERE operator_id = ?`, id); err != nil {
		return ports.Operator{}, r.t.wrap("disable operator: end sessions", err)
	}
	return row.port(), nil
}

type operatorSessionRow struct {
	ID         ports.OperatorSessionID `db:"id"`
	OperatorID ports.OperatorID        `db:"operator_id"`
	TokenHash  []byte                  `db:"token_hash"`
	UserAgent  string                  `db:"user_agent"`
	IP         string                  `db:"ip"`
	CreatedAt  Time                    `db:"created_at"`
	LastSeenAt Time                    `db:"last_seen_at"`
	ExpiresAt  Time                    `db:"expires_at"`
	AAL        int                     `db:"aal"`
}

func (r operatorSessionRow) port() ports.OperatorSession {
	return ports.OperatorSession{
		ID: r.ID, OperatorID: r.OperatorID, TokenHash: r.TokenHash, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.Time, LastSeenAt: r.LastSeenAt.Time, ExpiresAt: r.ExpiresAt.Time, AAL: r.AAL,
	}
}

func (r operators) CreateSession(ctx context.Context, s ports.OperatorSession) (ports.OperatorSession, error) {
	if err := s.Validate(); err != nil {
		return ports.OperatorSession{}, err
	}
	now := r.t.now()
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = now, now, ports.Timestamp(s.ExpiresAt)
	if s.AAL == 0 {
		s.AAL = ports.AAL1
	}
	s.TokenHash = cloneBytes(s.TokenHash)
	_, err := r.t.exec(ctx, `INSERT INTO operator_sessions (id, operator_id, token_hash, user_agent, ip, created_at, last_seen_at, expires_at, aal)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.OperatorID, s.TokenHash, s.UserAgent, s.IP, now, now, s.ExpiresAt, s.AAL)
	if err != nil {
		return ports.OperatorSession{}, r.t.wrap("create operator session", err)
	}
	return s, nil
}

func (r operators) Session(ctx context.Context, id ports.OperatorSessionID) (ports.OperatorSession, ports.Operator, error) {
	var row struct {
		operatorSessionRow
		Email      string `db:"email"`
		Name       string `db:"name"`
		OpCreated  Time   `db:"op_created_at"`
		DisabledAt Time   `db:"disabled_at"`
	}
	err := r.t.get(ctx, &row, `SELECT s.id, s.operator_id, s.token_hash, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at, s.aal,
			o.email, o.name, o.created_at AS op_created_at, o.disabled_at
		FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id = ?`, id)
	if err != nil {
		return ports.OperatorSession{}, ports.Operator{}, r.t.wrap("get operator session", err)
	}
	op := operatorRow{ID: row.OperatorID, Email: row.Email, Name: row.Name, CreatedAt: row.OpCreated, DisabledAt: row.DisabledAt}
	return row.operatorSessionRow.port(), op.port(), nil
}

func (r operators) TouchSession(ctx context.Context, id ports.OperatorSessionID, at time.Time) error {
	n, err := r.t.exec(ctx, `UPDATE operator_sessions SET last_seen_at = ? WHERE id = ?`, at, id)
	if err != nil {
		return r.t.wrap("touch operator session", err)
	}
	if n == 0 {
		return r.t.notFound("touch operator session")
	}
	return nil
}

func (r operators) SetSessionAAL(ctx context.Context, id ports.OperatorSessionID, aal int) error {
	if aal != ports.AAL1 && aal != ports.AAL2 {
		return ports.Invalid("aal", "must be 1 or 2")
	}
	n, err := r.t.exec(ctx, `UPDATE operator_sessions SET aal = ? WHERE id = ?`, aal, id)
	if err != nil {
		return r.t.wrap("set operator session aal", err)
	}
	if n == 0 {
		return r.t.notFound("set operator session aal")
	}
	return nil
}

func (r operators) DeleteSessionsOf(ctx context.Context, id ports.OperatorID) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM operator_sessions WHERE operator_id = ?`, id)
	if err != nil {
		return 0, r.t.wrap("delete operator sessions", err)
	}
	return int(n), nil
}

func (r operators) DeleteSession(ctx context.Context, id ports.OperatorSessionID) error {
	n, err := r.t.exec(ctx, `DELETE FROM operator_sessions WHERE id = ?`, id)
	if err != nil {
		return r.t.wrap("delete operator session", err)
	}
	if n == 0 {
		return r.t.notFound("delete operator session")
	}
	return nil
}

func (r operators) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM operator_sessions WHERE expires_at < ? OR last_seen_at < ?`, now, idleBefore)
	if err != nil {
		return 0, r.t.wrap("delete expired operator sessions", err)
	}
	return int(n), nil
}

// Impersonations implements ports.ShopTx.
func (t *Shop) Impersonations() ports.ImpersonationRepo { return impersonations{t} }

// impersonations is the impersonation repository of one Shop. Every
// statement binds t.shop; none accepts a shop from the caller.
type impersonations struct{ t *Shop }

var _ ports.ImpersonationRepo = impersonations{}

type impersonationRow struct {
	ID            ports.ImpersonationID `db:"id"`
	OperatorID    ports.OperatorID      `db:"operator_id"`
	UserID        ports.UserID          `db:"user_id"`
	Reason        string                `db:"reason"`
	CodeHash      []byte                `db:"code_hash"`
	CodeExpiresAt Time                  `db:"code_expires_at"`
	CreatedAt     Time                  `db:"created_at"`
	ExpiresAt     Time                  `db:"expires_at"`
	RedeemedAt    Time                  `db:"redeemed_at"`
	EndedAt       Time                  `db:"ended_at"`
}

const impersonationCols = `id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at, redeemed_at, ended_at`

func (r impersonationRow) port() ports.Impersonation {
	return ports.Impersonation{
		ID: r.ID, OperatorID: r.OperatorID, UserID: r.UserID, Reason: r.Reason, CodeHash: r.CodeHash,
		CodeExpiresAt: r.CodeExpiresAt.Time, CreatedAt: r.CreatedAt.Time, ExpiresAt: r.ExpiresAt.Time,
		RedeemedAt: r.RedeemedAt.Time, EndedAt: r.EndedAt.Time,
	}
}

// Create inserts the impersonation; the foreign keys refuse an unknown
// operator, user or shop with ErrNotFound.
func (r impersonations) Create(ctx context.Context, i ports.Impersonation) (ports.Impersonation, error) {
	i.Reason = strings.TrimSpace(i.Reason)
	if err := i.Validate(); err != nil {
		return ports.Impersonation{}, err
	}
	i.CodeHash = cloneBytes(i.CodeHash)
	i.CreatedAt, i.CodeExpiresAt, i.ExpiresAt = r.t.now(), ports.Timestamp(i.CodeExpiresAt), ports.Timestamp(i.ExpiresAt)
	i.RedeemedAt, i.EndedAt = time.Time{}, time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO impersonations (shop_id, id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, i.ID, i.OperatorID, i.UserID, i.Reason, i.CodeHash, i.CodeExpiresAt, i.CreatedAt, i.ExpiresAt)
	if err != nil {
		return ports.Impersonation{}, r.t.wrap("create impersonation", err)
	}
	return i, nil
}

func (r impersonations) Get(ctx context.Context, id ports.ImpersonationID) (ports.Impersonation, error) {
	var row impersonationRow
	err := r.t.get(ctx, &row, `SELECT `+impersonationCols+` FROM impersonations WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Impersonation{}, r.t.wrap("get impersonation", err)
	}
	return row.port(), nil
}

// Redeem is one conditional UPDATE. On Postgres (READ COMMITTED) a
// concurrent second call waits for the first's row lock, then re-checks
// the WHERE clause against the redeemed row (code_hash now NULL) and
// matches nothing; on SQLite the one writer serialises them the same way:
// at most one wins.
func (r impersonations) Redeem(ctx context.Context, codeHash []byte, now time.Time) (ports.Impersonation, error) {
	if len(codeHash) != ports.TokenHashSize {
		return ports.Impersonation{}, r.t.notFound("redeem impersonation code")
	}
	var row impersonationRow
	err := r.t.get(ctx, &row, `UPDATE impersonations SET code_hash = NULL, redeemed_at = ?
		WHERE shop_id = ? AND code_hash = ? AND code_expires_at > ? AND expires_at > ? AND ended_at IS NULL
		RETURNING `+impersonationCols, now, r.t.shop, codeHash, now, now)
	if err != nil {
		return ports.Impersonation{}, r.t.wrap("redeem impersonation code", err)
	}
	return row.port(), nil
}

// End keeps the first time an impersonation ended.
func (r impersonations) End(ctx context.Context, id ports.ImpersonationID, at time.Time) (ports.Impersonation, error) {
	var row impersonationRow
	err := r.t.get(ctx, &row, `UPDATE impersonations SET ended_at = COALESCE(ended_at, ?)
		WHERE shop_id = ? AND id = ? RETURNING `+impersonationCols, at, r.t.shop, id)
	if err != nil {
		return ports.Impersonation{}, r.t.wrap("end impersonation", err)
	}
	return row.port(), nil
}

// List returns the shop's newest impersonations first: limit of them, 100
// when limit is 0.
func (r impersonations) List(ctx context.Context, limit int) ([]ports.Impersonation, error) {
	if limit < 0 || limit > 1000 {
		return nil, ports.Invalid("limit", "must be 1 to 1000")
	}
	if limit == 0 {
		limit = 100
	}
	var rows []impersonationRow
	err := r.t.sel(ctx, &rows, `SELECT `+impersonationCols+` FROM impersonations
		WHERE shop_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, r.t.shop, limit)
	if err != nil {
		return nil, r.t.wrap("list impersonations", err)
	}
	out := make([]ports.Impersonation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
