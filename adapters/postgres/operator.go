package postgres

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *globalTx) Operators() ports.OperatorRepo { return operators{t} }

// operators is the operator repository of one globalTx: global rows.
type operators struct{ t *globalTx }

type operatorRow struct {
	ID         ports.OperatorID `db:"id"`
	Email      string           `db:"email"`
	Name       string           `db:"name"`
	CreatedAt  time.Time        `db:"created_at"`
	DisabledAt sql.NullTime     `db:"disabled_at"`
}

const operatorCols = `id, email, name, created_at, disabled_at`

func (r operatorRow) port() ports.Operator {
	o := ports.Operator{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	if r.DisabledAt.Valid {
		o.DisabledAt = r.DisabledAt.Time.UTC()
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
	o.CreatedAt, o.DisabledAt = r.t.store.now(), time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO operators (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Email, o.Name, passwordHash, o.CreatedAt)
	if err != nil {
		return ports.Operator{}, wrap("create operator", err)
	}
	return o, nil
}

func (r operators) Get(ctx context.Context, id ports.OperatorID) (ports.Operator, error) {
	var row operatorRow
	if err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+operatorCols+` FROM operators WHERE id = $1`, id); err != nil {
		return ports.Operator{}, wrap("get operator", err)
	}
	return row.port(), nil
}

// operatorCredentialsSQL is the one statement the definer function
// stockade_operator_credentials answers (migration 00018: the application
// role cannot read operators.password_hash); the function compares the
// client's statement text with it, byte for byte.
const operatorCredentialsSQL = `SELECT * FROM stockade_operator_credentials($1)`

// Credentials reads one operator and the password hash, by e-mail.
func (r operators) Credentials(ctx context.Context, email string) (ports.Operator, string, error) {
	var row struct {
		operatorRow
		Hash string `db:"password_hash"`
	}
	err := sqlx.GetContext(ctx, r.t.q, &row, operatorCredentialsSQL, ports.NormalizeEmail(email))
	if err != nil {
		return ports.Operator{}, "", wrap("operator credentials", err)
	}
	return row.port(), row.Hash, nil
}

func (r operators) SetPasswordHash(ctx context.Context, id ports.OperatorID, hash string) error {
	if err := validHash(hash); err != nil {
		return err
	}
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE operators SET password_hash = $2 WHERE id = $1`, id, hash))
	if err != nil {
		return wrap("set operator password", err)
	}
	if n == 0 {
		return notFound("set operator password")
	}
	return nil
}

func (r operators) List(ctx context.Context) ([]ports.Operator, error) {
	var rows []operatorRow
	if err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+operatorCols+` FROM operators ORDER BY email`); err != nil {
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
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE operators SET disabled_at = COALESCE(disabled_at, $2)
		WHERE id = $1 RETURNING `+operatorCols, id, ports.Timestamp(at))
	if err != nil {
		return ports.Operator{}, wrap("disable operator", err)
	}
	if _, err := r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1`, id); err != nil {
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
	CreatedAt  time.Time               `db:"created_at"`
	LastSeenAt time.Time               `db:"last_seen_at"`
	ExpiresAt  time.Time               `db:"expires_at"`
}

func (r operatorSessionRow) port() ports.OperatorSession {
	return ports.OperatorSession{
		ID: r.ID, OperatorID: r.OperatorID, TokenHash: r.TokenHash, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
}

func (r operators) CreateSession(ctx context.Context, s ports.OperatorSession) (ports.OperatorSession, error) {
	if err := s.Validate(); err != nil {
		return ports.OperatorSession{}, err
	}
	now := r.t.store.now()
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = now, now, ports.Timestamp(s.ExpiresAt)
	s.TokenHash = append([]byte(nil), s.TokenHash...)
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO operator_sessions (id, operator_id, token_hash, user_agent, ip, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`, s.ID, s.OperatorID, s.TokenHash, s.UserAgent, s.IP, now, s.ExpiresAt)
	if err != nil {
		return ports.OperatorSession{}, wrap("create operator session", err)
	}
	return s, nil
}

func (r operators) Session(ctx context.Context, id ports.OperatorSessionID) (ports.OperatorSession, ports.Operator, error) {
	var row struct {
		operatorSessionRow
		Email      string       `db:"email"`
		Name       string       `db:"name"`
		OpCreated  time.Time    `db:"op_created_at"`
		DisabledAt sql.NullTime `db:"disabled_at"`
	}
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT s.id, s.operator_id, s.token_hash, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at,
			o.email, o.name, o.created_at AS op_created_at, o.disabled_at
		FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id = $1`, id)
	if err != nil {
		return ports.OperatorSession{}, ports.Operator{}, wrap("get operator session", err)
	}
	op := operatorRow{ID: row.OperatorID, Email: row.Email, Name: row.Name, CreatedAt: row.OpCreated, DisabledAt: row.DisabledAt}
	return row.operatorSessionRow.port(), op.port(), nil
}

func (r operators) TouchSession(ctx context.Context, id ports.OperatorSessionID, at time.Time) error {
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE operator_sessions SET last_seen_at = $2 WHERE id = $1`, id, ports.Timestamp(at)))
	if err != nil {
		return wrap("touch operator session", err)
	}
	if n == 0 {
		return notFound("touch operator session")
	}
	return nil
}

func (r operators) DeleteSession(ctx context.Context, id ports.OperatorSessionID) error {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE id = $1`, id))
	if err != nil {
		return wrap("delete operator session", err)
	}
	if n == 0 {
		return notFound("delete operator session")
	}
	return nil
}

func (r operators) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM operator_sessions WHERE expires_at < $1 OR last_seen_at < $2`,
		ports.Timestamp(now), ports.Timestamp(idleBefore)))
	if err != nil {
		return 0, wrap("delete expired operator sessions", err)
	}
	return int(n), nil
}

func (t *shopTx) Impersonations() ports.ImpersonationRepo { return impersonations{t} }

// impersonations is the impersonation repository of one shopTx. Every
// statement binds t.shop, and row-level security holds it to that shop as
// well.
type impersonations struct{ t *shopTx }

type impersonationRow struct {
	ID            ports.ImpersonationID `db:"id"`
	OperatorID    ports.OperatorID      `db:"operator_id"`
	UserID        ports.UserID          `db:"user_id"`
	Reason        string                `db:"reason"`
	CodeHash      []byte                `db:"code_hash"`
	CodeExpiresAt time.Time             `db:"code_expires_at"`
	CreatedAt     time.Time             `db:"created_at"`
	ExpiresAt     time.Time             `db:"expires_at"`
	RedeemedAt    sql.NullTime          `db:"redeemed_at"`
	EndedAt       sql.NullTime          `db:"ended_at"`
}

const impersonationCols = `id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at, redeemed_at, ended_at`

func (r impersonationRow) port() ports.Impersonation {
	i := ports.Impersonation{
		ID: r.ID, OperatorID: r.OperatorID, UserID: r.UserID, Reason: r.Reason, CodeHash: r.CodeHash,
		CodeExpiresAt: r.CodeExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.RedeemedAt.Valid {
		i.RedeemedAt = r.RedeemedAt.Time.UTC()
	}
	if r.EndedAt.Valid {
		i.EndedAt = r.EndedAt.Time.UTC()
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
	i.CodeHash = append([]byte(nil), i.CodeHash...)
	i.CreatedAt, i.CodeExpiresAt, i.ExpiresAt = r.t.store.now(), ports.Timestamp(i.CodeExpiresAt), ports.Timestamp(i.ExpiresAt)
	i.RedeemedAt, i.EndedAt = time.Time{}, time.Time{}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO impersonations (shop_id, id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.t.shop, i.ID, i.OperatorID, i.UserID, i.Reason, i.CodeHash, i.CodeExpiresAt, i.CreatedAt, i.ExpiresAt)
	if err != nil {
		return ports.Impersonation{}, wrap("create impersonation", err)
	}
	return i, nil
}

func (r impersonations) Get(ctx context.Context, id ports.ImpersonationID) (ports.Impersonation, error) {
	var row impersonationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+impersonationCols+` FROM impersonations WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
	if err != nil {
		return ports.Impersonation{}, wrap("get impersonation", err)
	}
	return row.port(), nil
}

// Redeem is one conditional UPDATE. Under READ COMMITTED a concurrent
// second call waits for the first's row lock, then re-checks the WHERE
// clause against the redeemed row (code_hash now NULL) and matches
// nothing: at most one wins.
func (r impersonations) Redeem(ctx context.Context, codeHash []byte, now time.Time) (ports.Impersonation, error) {
	if len(codeHash) != ports.TokenHashSize {
		return ports.Impersonation{}, notFound("redeem impersonation code")
	}
	var row impersonationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE impersonations SET code_hash = NULL, redeemed_at = $2
		WHERE shop_id = $1 AND code_hash = $3 AND code_expires_at > $2 AND expires_at > $2 AND ended_at IS NULL
		RETURNING `+impersonationCols, r.t.shop, ports.Timestamp(now), codeHash)
	if err != nil {
		return ports.Impersonation{}, wrap("redeem impersonation code", err)
	}
	return row.port(), nil
}

func (r impersonations) End(ctx context.Context, id ports.ImpersonationID, at time.Time) (ports.Impersonation, error) {
	var row impersonationRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE impersonations SET ended_at = COALESCE(ended_at, $3)
		WHERE shop_id = $1 AND id = $2 RETURNING `+impersonationCols, r.t.shop, id, ports.Timestamp(at))
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
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+impersonationCols+` FROM impersonations
		WHERE shop_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, r.t.shop, limit)
	if err != nil {
		return nil, wrap("list impersonations", err)
	}
	out := make([]ports.Impersonation, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}
