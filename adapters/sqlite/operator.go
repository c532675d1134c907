package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *globalTx) Operators() ports.OperatorRepo { return operators{t} }

// operators is the operator repository of one globalTx: global rows.
type operators struct{ t *globalTx }

type operatorRow struct {
	ID         ports.OperatorID `db:"id"`
	Email      string           `db:"email"`
	Name       string           `db:"name"`
	CreatedAt  int64            `db:"created_at"`
	DisabledAt *int64           `db:"disabled_at"`
}

const operatorCols = `id, email, name, created_at, disabled_at`

func (r operatorRow) port() ports.Operator {
	o := ports.Operator{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: fromMicros(r.CreatedAt)}
	if r.DisabledAt != nil {
		o.DisabledAt = fromMicros(*r.DisabledAt)
	}
	return o
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
	row := operatorRow{ID: o.ID, Email: o.Email, Name: o.Name, CreatedAt: r.t.store.now()}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO operators (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		row.ID, row.Email, row.Name, passwordHash, row.CreatedAt)
	if err != nil {
		return ports.Operator{}, wrap("create operator", err)
	}
	return row.port(), nil
}

func (r operators) Get(ctx context.Context, id ports.OperatorID) (ports.Operator, error) {
	var row operatorRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+operatorCols+` FROM operators WHERE id = ?`, id); err != nil {
		return ports.Operator{}, wrap("get operator", err)
	}
	return row.port(), nil
}

func (r operators) Credentials(ctx context.Context, email string) (ports.Operator, string, error) {
	var row struct {
		operatorRow
		Hash string `db:"password_hash"`
	}
	err := r.t.q.GetContext(ctx, &row, `SELECT `+operatorCols+`, password_hash FROM operators WHERE email = ?`, ports.NormalizeEmail(email))
	if err != nil {
		return ports.Operator{}, "", wrap("operator credentials", err)
	}
	return row.port(), row.Hash, nil
}

func (r operators) SetPasswordHash(ctx context.Context, id ports.OperatorID, hash string) error {
	if err := validHash(hash); err != nil {
		return err
	}
	res, err := r.t.q.ExecContext(ctx, `UPDATE operators SET password_hash = ? WHERE id = ?`, hash, id)
	if err != nil {
		return wrap("set operator password", err)
	}
	return mustAffect("set operator password", res)
}

func (r operators) List(ctx context.Context) ([]ports.Operator, error) {
	var rows []operatorRow
	if err := r.t.q.SelectContext(ctx, &rows, `SELECT `+operatorCols+` FROM operators ORDER BY email`); err != nil {
		return nil, wrap("list operators", err)
	}
	out := make([]ports.Operator, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r operators) Disable(ctx context.Context, id ports.OperatorID, at time.Time) (ports.Operator, error) {
	var row operatorRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE operators SET disabled_at = COALESCE(disabled_at, ?)
		WHERE id = ? RETURNING `+operatorCols, micros(at), id)
	if err != nil {
		return ports.Operator{}, wrap("disable operator", err)
	}
	if _, err := r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE operator_id = ?`, id); err != nil {
		return ports.Operator{}, wrap("disable operator: end sessions", err)
	}
	return row.port(), nil
}

type operatorSessionRow struct {
	ID         ports.OperatorSessionID `db:"id"`
	OperatorID ports.OperatorID        `db:"operator_id"`
	TokenHash  []byte                  `db:"token_hash"`
	UserAgent  string                  `db:"user_agent"`
	IP         string                  `db:"ip"`
	CreatedAt  int64                   `db:"created_at"`
	LastSeenAt int64                   `db:"last_seen_at"`
	ExpiresAt  int64                   `db:"expires_at"`
}

func (r operatorSessionRow) port() ports.OperatorSession {
	return ports.OperatorSession{
		ID: r.ID, OperatorID: r.OperatorID, TokenHash: r.TokenHash, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: fromMicros(r.CreatedAt), LastSeenAt: fromMicros(r.LastSeenAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
}

func (r operators) CreateSession(ctx context.Context, s ports.OperatorSession) (ports.OperatorSession, error) {
	if err := s.Validate(); err != nil {
		return ports.OperatorSession{}, err
	}
	now := r.t.store.now()
	row := operatorSessionRow{
		ID: s.ID, OperatorID: s.OperatorID, TokenHash: cloneBytes(s.TokenHash), UserAgent: s.UserAgent, IP: s.IP,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: micros(s.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO operator_sessions (id, operator_id, token_hash, user_agent, ip, created_at, last_seen_at, expires_at)
		VALUES (:id, :operator_id, :token_hash, :user_agent, :ip, :created_at, :last_seen_at, :expires_at)`, row)
	if err != nil {
		return ports.OperatorSession{}, wrap("create operator session", err)
	}
	return row.port(), nil
}

func (r operators) Session(ctx context.Context, id ports.OperatorSessionID) (ports.OperatorSession, ports.Operator, error) {
	var row struct {
		operatorSessionRow
		Email      string `db:"email"`
		Name       string `db:"name"`
		OpCreated  int64  `db:"op_created_at"`
		DisabledAt *int64 `db:"disabled_at"`
	}
	err := r.t.q.GetContext(ctx, &row, `SELECT s.id, s.operator_id, s.token_hash, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at,
			o.email, o.name, o.created_at AS op_created_at, o.disabled_at
		FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id = ?`, id)
	if err != nil {
		return ports.OperatorSession{}, ports.Operator{}, wrap("get operator session", err)
	}
	op := operatorRow{ID: row.OperatorID, Email: row.Email, Name: row.Name, CreatedAt: row.OpCreated, DisabledAt: row.DisabledAt}
	return row.operatorSessionRow.port(), op.port(), nil
}

func (r operators) TouchSession(ctx context.Context, id ports.OperatorSessionID, at time.Time) error {
	res, err := r.t.q.ExecContext(ctx, `UPDATE operator_sessions SET last_seen_at = ? WHERE id = ?`, micros(at), id)
	if err != nil {
		return wrap("touch operator session", err)
	}
	return mustAffect("touch operator session", res)
}

func (r operators) DeleteSession(ctx context.Context, id ports.OperatorSessionID) error {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE id = ?`, id)
	if err != nil {
		return wrap("delete operator session", err)
	}
	return mustAffect("delete operator session", res)
}

func (r operators) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE expires_at < ? OR last_seen_at < ?`, micros(now), micros(idleBefore))
	return affected("delete expired operator sessions", res, err)
}

func (t *shopTx) Impersonations() ports.ImpersonationRepo { return impersonations{t} }

// impersonations is the impersonation repository of one shopTx. Every
// statement binds t.shop; none accepts a shop from the caller.
type impersonations struct{ t *shopTx }

type impersonationRow struct {
	ShopID        ports.ShopID          `db:"shop_id"`
	ID            ports.ImpersonationID `db:"id"`
	OperatorID    ports.OperatorID      `db:"operator_id"`
	UserID        ports.UserID          `db:"user_id"`
	Reason        string                `db:"reason"`
	CodeHash      []byte                `db:"code_hash"`
	CodeExpiresAt int64                 `db:"code_expires_at"`
	CreatedAt     int64                 `db:"created_at"`
	ExpiresAt     int64                 `db:"expires_at"`
	RedeemedAt    *int64                `db:"redeemed_at"`
	EndedAt       *int64                `db:"ended_at"`
}

const impersonationCols = `shop_id, id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at, redeemed_at, ended_at`

func (r impersonationRow) port() ports.Impersonation {
	i := ports.Impersonation{
		ID: r.ID, OperatorID: r.OperatorID, UserID: r.UserID, Reason: r.Reason, CodeHash: r.CodeHash,
		CodeExpiresAt: fromMicros(r.CodeExpiresAt), CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.RedeemedAt != nil {
		i.RedeemedAt = fromMicros(*r.RedeemedAt)
	}
	if r.EndedAt != nil {
		i.EndedAt = fromMicros(*r.EndedAt)
	}
	return i
}

// Create inserts the impersonation; the foreign keys refuse an unknown
// operator, user or shop with ErrNotFound.
func (r impersonations) Create(ctx context.Context, i ports.Impersonation) (ports.Impersonation, error) {
	i.Reason = strings.TrimSpace(i.Reason)
	if err := i.Validate(); err != nil {
		return ports.Impersonation{}, err
	}
	row := impersonationRow{
		ShopID: r.t.shop, ID: i.ID, OperatorID: i.OperatorID, UserID: i.UserID, Reason: i.Reason,
		CodeHash: cloneBytes(i.CodeHash), CodeExpiresAt: micros(i.CodeExpiresAt), CreatedAt: r.t.store.now(), ExpiresAt: micros(i.ExpiresAt),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO impersonations (shop_id, id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at)
		VALUES (:shop_id, :id, :operator_id, :user_id, :reason, :code_hash, :code_expires_at, :created_at, :expires_at)`, row)
	if err != nil {
		return ports.Impersonation{}, wrap("create impersonation", err)
	}
	return row.port(), nil
}

func (r impersonations) Get(ctx context.Context, id ports.ImpersonationID) (ports.Impersonation, error) {
	var row impersonationRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+impersonationCols+` FROM impersonations WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Impersonation{}, wrap("get impersonation", err)
	}
	return row.port(), nil
}

// Redeem is one conditional UPDATE: the single writer connection
// serialises concurrent calls, and only the first still finds the code.
func (r impersonations) Redeem(ctx context.Context, codeHash []byte, now time.Time) (ports.Impersonation, error) {
	if len(codeHash) != ports.TokenHashSize {
		return ports.Impersonation{}, fmt.Errorf("redeem impersonation code: %w", ports.ErrNotFound)
	}
	at := micros(now)
	var row impersonationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE impersonations SET code_hash = NULL, redeemed_at = ?
		WHERE shop_id = ? AND code_hash = ? AND code_expires_at > ? AND expires_at > ? AND ended_at IS NULL
		RETURNING `+impersonationCols, at, r.t.shop, codeHash, at, at)
	if err != nil {
		return ports.Impersonation{}, wrap("redeem impersonation code", err)
	}
	return row.port(), nil
}

func (r impersonations) End(ctx context.Context, id ports.ImpersonationID, at time.Time) (ports.Impersonation, error) {
	var row impersonationRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE impersonations SET ended_at = COALESCE(ended_at, ?)
		WHERE shop_id = ? AND id = ? RETURNING `+impersonationCols, micros(at), r.t.shop, id)
	if err != nil {
		return ports.Impersonation{}, wrap("end impersonation", err)
	}
	return row.port(), nil
}

func (r impersonations) List(ctx context.Context, limit int) ([]ports.Impersonation, error) {
	if limit < 0 || limit > 1000 {
		return nil, ports.Invalid("limit", "must be 1 to 1000")
	}
	if limit == 0 {
		limit = 100
	}
	var rows []impersonationRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+impersonationCols+` FROM impersonations
		WHERE shop_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, r.t.shop, limit)
	if err != nil {
		return nil, wrap("list impersonations", err)
	}
	out := make([]ports.Impersonation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
