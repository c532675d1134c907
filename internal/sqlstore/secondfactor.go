package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// SecondFactors implements ports.GlobalTx.
func (t *Global) SecondFactors() ports.SecondFactorRepo { return secondFactors{t} }

// secondFactors keeps users' factors in user_totp and
// user_recovery_codes, operators' in operator_totp and
// operator_recovery_codes: the same statements over the owner's tables.
type secondFactors struct{ t *Global }

var _ ports.SecondFactorRepo = secondFactors{}

// conflict is ports.ErrConflict named with the dialect, op and why.
func (r secondFactors) conflict(op, why string) error {
	return fmt.Errorf("%s: %s: %s: %w", r.t.d.Name(), op, why, ports.ErrConflict)
}

// factorTables names the owner's tables and key column, and its key.
type factorTables struct {
	totp, codes, col string
	key              any
}

func tablesOf(o ports.FactorOwner) (factorTables, error) {
	if err := o.Validate(); err != nil {
		return factorTables{}, err
	}
	if o.IsOperator() {
		return factorTables{totp: "operator_totp", codes: "operator_recovery_codes", col: "operator_id", key: o.Operator}, nil
	}
	return factorTables{totp: "user_totp", codes: "user_recovery_codes", col: "user_id", key: o.User}, nil
}

type totpRow struct {
	SealedSecret []byte `db:"sealed_secret"`
	LastStep     int64  `db:"last_step"`
	CreatedAt    Time   `db:"created_at"`
	ConfirmedAt  Time   `db:"confirmed_at"`
}

const totpCols = `sealed_secret, last_step, created_at, confirmed_at`

func (r totpRow) port(o ports.FactorOwner) ports.TOTPFactor {
	return ports.TOTPFactor{Owner: o, SealedSecret: r.SealedSecret, LastStep: r.LastStep, CreatedAt: r.CreatedAt.Time, ConfirmedAt: r.ConfirmedAt.Time}
}

// PutPendingTOTP inserts the factor, or replaces the owner's pending one;
// the conflict clause's WHERE leaves a confirmed factor alone, which the
// zero row count reports.
func (r secondFactors) PutPendingTOTP(ctx context.Context, f ports.TOTPFactor) (ports.TOTPFactor, error) {
	if err := f.Validate(); err != nil {
		return ports.TOTPFactor{}, err
	}
	tb, err := tablesOf(f.Owner)
	if err != nil {
		return ports.TOTPFactor{}, err
	}
	now := r.t.now()
	f = ports.TOTPFactor{Owner: f.Owner, SealedSecret: cloneBytes(f.SealedSecret), CreatedAt: now}
	n, err := r.t.exec(ctx, `INSERT INTO `+tb.totp+` (`+tb.col+`, sealed_secret, last_step, created_at) VALUES (?, ?, 0, ?)
		ON CONFLICT (`+tb.col+`) DO UPDATE SET sealed_secret = excluded.sealed_secret, last_step = 0, created_at = excluded.created_at
		WHERE `+tb.totp+`.confirmed_at IS NULL`, tb.key, f.SealedSecret, now)
	if err != nil {
		return ports.TOTPFactor{}, r.t.wrap("put pending totp", err)
	}
	if n == 0 {
		return ports.TOTPFactor{}, r.conflict("put pending totp", "a confirmed factor exists")
	}
	return f, nil
}

func (r secondFactors) TOTP(ctx context.Context, o ports.FactorOwner) (ports.TOTPFactor, error) {
	tb, err := tablesOf(o)
	if err != nil {
		return ports.TOTPFactor{}, err
	}
	var row totpRow
	if err := r.t.get(ctx, &row, `SELECT `+totpCols+` FROM `+tb.totp+` WHERE `+tb.col+` = ?`, tb.key); err != nil {
		return ports.TOTPFactor{}, r.t.wrap("get totp", err)
	}
	return row.port(o), nil
}

func (r secondFactors) ConfirmTOTP(ctx context.Context, o ports.FactorOwner, step int64, at time.Time) (ports.TOTPFactor, error) {
	tb, err := tablesOf(o)
	if err != nil {
		return ports.TOTPFactor{}, err
	}
	if step < 0 {
		return ports.TOTPFactor{}, ports.Invalid("step", "must not be negative")
	}
	var row totpRow
	err = r.t.get(ctx, &row, `UPDATE `+tb.totp+` SET confirmed_at = ?, last_step = ?
		WHERE `+tb.col+` = ? AND confirmed_at IS NULL RETURNING `+totpCols, ports.Timestamp(at), step, tb.key)
	if err != nil {
		if err := r.t.wrap("confirm totp", err); !errors.Is(err, ports.ErrNotFound) {
			return ports.TOTPFactor{}, err
		}
		return ports.TOTPFactor{}, r.missingOrConfirmed(ctx, tb, "confirm totp")
	}
	return row.port(o), nil
}

// missingOrConfirmed tells why a statement on a pending factor touched no
// row: ErrConflict when the owner's factor is confirmed, else ErrNotFound.
func (r secondFactors) missingOrConfirmed(ctx context.Context, tb factorTables, op string) error {
	var confirmed int
	err := r.t.get(ctx, &confirmed, `SELECT COUNT(*) FROM `+tb.totp+` WHERE `+tb.col+` = ? AND confirmed_at IS NOT NULL`, tb.key)
	switch {
	case err != nil:
		return r.t.wrap(op, err)
	case confirmed > 0:
		return r.conflict(op, "the factor is confirmed already")
	}
	return r.t.notFound(op)
}

func (r secondFactors) UseTOTPStep(ctx context.Context, o ports.FactorOwner, step int64) error {
	tb, err := tablesOf(o)
	if err != nil {
		return err
	}
	n, err := r.t.exec(ctx, `UPDATE `+tb.totp+` SET last_step = ?
		WHERE `+tb.col+` = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, tb.key, step)
	if err != nil {
		return r.t.wrap("use totp step", err)
	}
	if n == 1 {
		return nil
	}
	var confirmed int
	if err := r.t.get(ctx, &confirmed, `SELECT COUNT(*) FROM `+tb.totp+` WHERE `+tb.col+` = ? AND confirmed_at IS NOT NULL`, tb.key); err != nil {
		return r.t.wrap("use totp step", err)
	}
	if confirmed == 0 {
		return r.t.notFound("use totp step")
	}
	return r.conflict("use totp step", "a code of this step or a later one was used already")
}

func (r secondFactors) DeleteTOTP(ctx context.Context, o ports.FactorOwner) error {
	tb, err := tablesOf(o)
	if err != nil {
		return err
	}
	if _, err := r.t.exec(ctx, `DELETE FROM `+tb.codes+` WHERE `+tb.col+` = ?`, tb.key); err != nil {
		return r.t.wrap("delete recovery codes", err)
	}
	n, err := r.t.exec(ctx, `DELETE FROM `+tb.totp+` WHERE `+tb.col+` = ?`, tb.key)
	if err != nil {
		return r.t.wrap("delete totp", err)
	}
	if n == 0 {
		return r.t.notFound("delete totp")
	}
	return nil
}

func (r secondFactors) ReplaceRecoveryCodes(ctx context.Context, o ports.FactorOwner, hashes [][]byte) error {
	tb, err := tablesOf(o)
	if err != nil {
		return err
	}
	if len(hashes) > ports.MaxRecoveryCodes {
		return ports.Invalid("recovery codes", "at most 16")
	}
	seen := map[string]bool{}
	for _, h := range hashes {
		if len(h) != ports.TokenHashSize {
			return ports.Invalid("recovery code hash", "must be a SHA-256 digest")
		}
		if seen[string(h)] {
			return ports.Invalid("recovery code hash", "must not repeat")
		}
		seen[string(h)] = true
	}
	if _, err := r.t.exec(ctx, `DELETE FROM `+tb.codes+` WHERE `+tb.col+` = ?`, tb.key); err != nil {
		return r.t.wrap("replace recovery codes", err)
	}
	if len(hashes) == 0 {
		return nil
	}
	now := r.t.now()
	values := make([]string, len(hashes))
	args := make([]any, 0, 3*len(hashes))
	for i, h := range hashes {
		values[i] = "(?, ?, ?)"
		args = append(args, tb.key, cloneBytes(h), now)
	}
	_, err = r.t.exec(ctx, `INSERT INTO `+tb.codes+` (`+tb.col+`, code_hash, created_at) VALUES `+strings.Join(values, ", "), args...)
	if err != nil {
		return r.t.wrap("replace recovery codes", err)
	}
	return nil
}

func (r secondFactors) RecoveryCodes(ctx context.Context, o ports.FactorOwner) ([]ports.RecoveryCode, error) {
	tb, err := tablesOf(o)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Hash      []byte `db:"code_hash"`
		CreatedAt Time   `db:"created_at"`
		UsedAt    Time   `db:"used_at"`
	}
	if err := r.t.sel(ctx, &rows, `SELECT code_hash, created_at, used_at FROM `+tb.codes+` WHERE `+tb.col+` = ?`, tb.key); err != nil {
		return nil, r.t.wrap("list recovery codes", err)
	}
	out := make([]ports.RecoveryCode, len(rows))
	for i, row := range rows {
		out[i] = ports.RecoveryCode{Hash: row.Hash, CreatedAt: row.CreatedAt.Time, UsedAt: row.UsedAt.Time}
	}
	return out, nil
}

func (r secondFactors) UseRecoveryCode(ctx context.Context, o ports.FactorOwner, hash []byte, at time.Time) error {
	tb, err := tablesOf(o)
	if err != nil {
		return err
	}
	if len(hash) != ports.TokenHashSize {
		return r.t.notFound("use recovery code")
	}
	n, err := r.t.exec(ctx, `UPDATE `+tb.codes+` SET used_at = ?
		WHERE `+tb.col+` = ? AND code_hash = ? AND used_at IS NULL`, ports.Timestamp(at), tb.key, hash)
	if err != nil {
		return r.t.wrap("use recovery code", err)
	}
	if n == 0 {
		return r.t.notFound("use recovery code")
	}
	return nil
}

// TwoFactorPolicy implements ports.ShopTx.
func (t *Shop) TwoFactorPolicy() ports.TwoFactorPolicyRepo { return twoFactorPolicy{t} }

// twoFactorPolicy is the shop's two-factor policy row. Every statement
// binds t.shop; none accepts a shop from the caller.
type twoFactorPolicy struct{ t *Shop }

var _ ports.TwoFactorPolicyRepo = twoFactorPolicy{}

type policyRow struct {
	AllMembers bool   `db:"all_members"`
	Roles      string `db:"roles"`
	UpdatedAt  Time   `db:"updated_at"`
	UpdatedBy  string `db:"updated_by"`
}

func (r policyRow) port() ports.TwoFactorPolicy {
	return ports.TwoFactorPolicy{AllMembers: r.AllMembers, Roles: ports.DecodePolicyRoles(r.Roles), UpdatedAt: r.UpdatedAt.Time, UpdatedBy: r.UpdatedBy}.Normalize()
}

func (r twoFactorPolicy) Get(ctx context.Context) (ports.TwoFactorPolicy, error) {
	var row policyRow
	err := r.t.get(ctx, &row, `SELECT all_members, roles, updated_at, updated_by FROM two_factor_policies WHERE shop_id = ?`, r.t.shop)
	if err != nil {
		err = r.t.wrap("get two-factor policy", err)
		if errors.Is(err, ports.ErrNotFound) {
			return ports.TwoFactorPolicy{}, nil // never set: nobody is required
		}
		return ports.TwoFactorPolicy{}, err
	}
	return row.port(), nil
}

func (r twoFactorPolicy) Set(ctx context.Context, p ports.TwoFactorPolicy) (ports.TwoFactorPolicy, error) {
	if err := p.Validate(); err != nil {
		return ports.TwoFactorPolicy{}, err
	}
	p = p.Normalize()
	p.UpdatedAt = r.t.now()
	_, err := r.t.exec(ctx, `INSERT INTO two_factor_policies (shop_id, all_members, roles, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET all_members = excluded.all_members, roles = excluded.roles,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		r.t.shop, p.AllMembers, p.EncodeRoles(), p.UpdatedAt, p.UpdatedBy)
	if err != nil {
		return ports.TwoFactorPolicy{}, r.t.wrap("set two-factor policy", err)
	}
	return p, nil
}
