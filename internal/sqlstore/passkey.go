package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Passkeys implements ports.ShopTx.
func (t *Shop) Passkeys() ports.PasskeyRepo { return passkeys{t} }

// passkeys is the passkey and WebAuthn-ceremony repository of one Shop.
// Every statement binds t.shop; none accepts a shop from the caller.
type passkeys struct{ t *Shop }

var _ ports.PasskeyRepo = passkeys{}

type passkeyRow struct {
	ID                ports.PasskeyID `db:"id"`
	UserID            ports.UserID    `db:"user_id"`
	CredentialID      []byte          `db:"credential_id"`
	RPID              string          `db:"rp_id"`
	PublicKey         []byte          `db:"public_key"`
	SignCount         int64           `db:"sign_count"`
	BackupEligible    bool            `db:"backup_eligible"`
	BackupState       bool            `db:"backup_state"`
	UserVerified      bool            `db:"user_verified"`
	AAGUID            []byte          `db:"aaguid"`
	Transports        string          `db:"transports"`
	AttestationFormat string          `db:"attestation_format"`
	Name              string          `db:"name"`
	CreatedAt         Time            `db:"created_at"`
	LastUsedAt        Time            `db:"last_used_at"`
}

const passkeyCols = `id, user_id, credential_id, rp_id, public_key, sign_count, backup_eligible, backup_state, user_verified,
	aaguid, transports, attestation_format, name, created_at, last_used_at`

func (r passkeyRow) port() ports.Passkey {
	return ports.Passkey{
		ID: r.ID, UserID: r.UserID, CredentialID: r.CredentialID, RPID: r.RPID, PublicKey: r.PublicKey,
		SignCount: uint32(r.SignCount), BackupEligible: r.BackupEligible, BackupState: r.BackupState, UserVerified: r.UserVerified,
		AAGUID: r.AAGUID, Transports: strings.Fields(r.Transports), AttestationFormat: r.AttestationFormat, Name: r.Name,
		CreatedAt: r.CreatedAt.Time, LastUsedAt: r.LastUsedAt.Time,
	}
}

// Create relies on the (shop_id, credential_id) unique key for
// ErrConflict and the user foreign key for ErrNotFound.
func (r passkeys) Create(ctx context.Context, k ports.Passkey) (ports.Passkey, error) {
	if err := k.Validate(); err != nil {
		return ports.Passkey{}, err
	}
	k.CredentialID, k.PublicKey, k.AAGUID = cloneBytes(k.CredentialID), cloneBytes(k.PublicKey), cloneBytes(k.AAGUID)
	if k.AAGUID == nil {
		k.AAGUID = []byte{}
	}
	k.CreatedAt, k.LastUsedAt = r.t.now(), time.Time{}
	_, err := r.t.exec(ctx, `INSERT INTO passkeys (shop_id, id, user_id, credential_id, rp_id, public_key, sign_count,
		backup_eligible, backup_state, user_verified, aaguid, transports, attestation_format, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, k.ID, k.UserID, k.CredentialID, k.RPID, k.PublicKey, int64(k.SignCount),
		k.BackupEligible, k.BackupState, k.UserVerified, k.AAGUID, strings.Join(k.Transports, " "), k.AttestationFormat, k.Name, k.CreatedAt)
	if err != nil {
		return ports.Passkey{}, r.t.wrap("create passkey", err)
	}
	return k, nil
}

func (r passkeys) ByCredentialID(ctx context.Context, credentialID []byte) (ports.Passkey, error) {
	if len(credentialID) == 0 || len(credentialID) > ports.MaxCredentialIDLen {
		return ports.Passkey{}, r.t.notFound("passkey by credential id")
	}
	var row passkeyRow
	err := r.t.get(ctx, &row, `SELECT `+passkeyCols+` FROM passkeys WHERE shop_id = ? AND credential_id = ?`, r.t.shop, credentialID)
	if err != nil {
		return ports.Passkey{}, r.t.wrap("passkey by credential id", err)
	}
	return row.port(), nil
}

func (r passkeys) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Passkey, error) {
	var rows []passkeyRow
	err := r.t.sel(ctx, &rows, `SELECT `+passkeyCols+` FROM passkeys WHERE shop_id = ? AND user_id = ? ORDER BY created_at, id`, r.t.shop, user)
	if err != nil {
		return nil, r.t.wrap("list passkeys", err)
	}
	out := make([]ports.Passkey, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r passkeys) Rename(ctx context.Context, user ports.UserID, id ports.PasskeyID, name string) (ports.Passkey, error) {
	if err := ports.ValidatePasskeyName(name); err != nil {
		return ports.Passkey{}, err
	}
	var row passkeyRow
	err := r.t.get(ctx, &row, `UPDATE passkeys SET name = ? WHERE shop_id = ? AND user_id = ? AND id = ? RETURNING `+passkeyCols,
		name, r.t.shop, user, id)
	if err != nil {
		return ports.Passkey{}, r.t.wrap("rename passkey", err)
	}
	return row.port(), nil
}

func (r passkeys) Delete(ctx context.Context, user ports.UserID, id ports.PasskeyID) error {
	n, err := r.t.exec(ctx, `DELETE FROM passkeys WHERE shop_id = ? AND user_id = ? AND id = ?`, r.t.shop, user, id)
	if err != nil {
		return r.t.wrap("delete passkey", err)
	}
	if n == 0 {
		return r.t.notFound("delete passkey")
	}
	return nil
}

// RecordUse compares and sets the counter in the UPDATE's WHERE, so the
// check and the write are one step.
func (r passkeys) RecordUse(ctx context.Context, id ports.PasskeyID, u ports.PasskeyUse) error {
	count := int64(u.SignCount)
	n, err := r.t.exec(ctx, `UPDATE passkeys SET sign_count = ?, backup_state = ?, user_verified = ?, last_used_at = ?
		WHERE shop_id = ? AND id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		count, u.BackupState, u.UserVerified, ports.Timestamp(u.At), r.t.shop, id, count, count)
	if err != nil {
		return r.t.wrap("record passkey use", err)
	}
	if n == 1 {
		return nil
	}
	var exists int
	if err := r.t.get(ctx, &exists, `SELECT COUNT(*) FROM passkeys WHERE shop_id = ? AND id = ?`, r.t.shop, id); err != nil {
		return r.t.wrap("record passkey use", err)
	}
	if exists == 0 {
		return r.t.notFound("record passkey use")
	}
	return fmt.Errorf("%s: record passkey use: the signature counter did not advance: %w", r.t.d.Name(), ports.ErrConflict)
}

type challengeRow struct {
	Hash      []byte           `db:"challenge_hash"`
	Purpose   string           `db:"purpose"`
	UserID    *ports.UserID    `db:"user_id"`
	SessionID *ports.SessionID `db:"session_id"`
	RPID      string           `db:"rp_id"`
	Data      []byte           `db:"data"`
	ExpiresAt Time             `db:"expires_at"`
	CreatedAt Time             `db:"created_at"`
}

const challengeCols = `challenge_hash, purpose, user_id, session_id, rp_id, data, expires_at, created_at`

func (r challengeRow) port() ports.WebAuthnChallenge {
	c := ports.WebAuthnChallenge{Hash: r.Hash, Purpose: r.Purpose, RPID: r.RPID, Data: r.Data, ExpiresAt: r.ExpiresAt.Time, CreatedAt: r.CreatedAt.Time}
	if r.UserID != nil {
		c.UserID = *r.UserID
	}
	if r.SessionID != nil {
		c.SessionID = *r.SessionID
	}
	return c
}

func (r passkeys) PutChallenge(ctx context.Context, c ports.WebAuthnChallenge) error {
	if err := c.Validate(); err != nil {
		return err
	}
	now := r.t.now()
	if _, err := r.t.exec(ctx, `DELETE FROM webauthn_challenges WHERE shop_id = ? AND expires_at <= ?`, r.t.shop, now); err != nil {
		return r.t.wrap("put webauthn challenge", err)
	}
	var session *ports.SessionID
	if !c.SessionID.IsZero() {
		session = &c.SessionID
	}
	data := cloneBytes(c.Data)
	if data == nil {
		data = []byte{}
	}
	_, err := r.t.exec(ctx, `INSERT INTO webauthn_challenges (shop_id, challenge_hash, purpose, user_id, session_id, rp_id, data, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, cloneBytes(c.Hash), c.Purpose, optionalUser(c.UserID), session, c.RPID, data, ports.Timestamp(c.ExpiresAt), now)
	if err != nil {
		return r.t.wrap("put webauthn challenge", err)
	}
	return nil
}

// TakeChallenge deletes the row in one statement (DELETE … RETURNING),
// so of two concurrent finishes only one gets it; an expired row is
// deleted too and reported missing.
func (r passkeys) TakeChallenge(ctx context.Context, hash []byte, purpose string, now time.Time) (ports.WebAuthnChallenge, error) {
	if len(hash) != ports.TokenHashSize {
		return ports.WebAuthnChallenge{}, r.t.notFound("take webauthn challenge")
	}
	var row challengeRow
	err := r.t.get(ctx, &row, `DELETE FROM webauthn_challenges WHERE shop_id = ? AND challenge_hash = ? AND purpose = ? RETURNING `+challengeCols,
		r.t.shop, hash, purpose)
	if err != nil {
		return ports.WebAuthnChallenge{}, r.t.wrap("take webauthn challenge", err)
	}
	if !row.ExpiresAt.After(now) {
		return ports.WebAuthnChallenge{}, r.t.notFound("take webauthn challenge")
	}
	return row.port(), nil
}
