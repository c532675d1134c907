package sqlstore

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// KMSKeys implements ports.GlobalTx.
func (t *Global) KMSKeys() ports.KMSKeyRepo { return kmsKeys{t} }

// kmsKeys is the kms_keys table: which KEKs an external KMS holds for
// each key scope (global rows, written once).
type kmsKeys struct{ t *Global }

var _ ports.KMSKeyRepo = kmsKeys{}

type kmsKeyRow struct {
	Scope     ports.ShopID `db:"key_scope"`
	Version   int64        `db:"version"`
	Ring      string       `db:"ring"`
	KeyID     string       `db:"key_id"`
	Origin    string       `db:"origin"`
	CreatedAt Time         `db:"created_at"`
}

const kmsKeyCols = `key_scope, version, ring, key_id, origin, created_at`

// maxKMSKeyID bounds a key ID (an ARN is at most 2048 characters).
const maxKMSKeyID = 2048

func (r kmsKeys) List(ctx context.Context, scope ports.ShopID) ([]ports.KMSKey, error) {
	var rows []kmsKeyRow
	if err := r.t.sel(ctx, &rows, `SELECT `+kmsKeyCols+` FROM kms_keys WHERE key_scope = ? ORDER BY version`, scope); err != nil {
		return nil, r.t.wrap("list kms keys", err)
	}
	out := make([]ports.KMSKey, len(rows))
	for i, row := range rows {
		ring, err := hex.DecodeString(row.Ring)
		if err != nil || len(ring) != 16 || row.Version < 1 || row.Version > 1<<32-1 {
			return nil, fmt.Errorf("list kms keys: scope %s: malformed row (version %d): %w", scope, row.Version, ports.ErrUnavailable)
		}
		k := ports.KMSKey{Scope: row.Scope, Version: uint32(row.Version), KeyID: row.KeyID,
			Origin: ports.KMSKeyOrigin(row.Origin), CreatedAt: row.CreatedAt.Time}
		copy(k.Ring[:], ring)
		out[i] = k
	}
	return out, nil
}

func (r kmsKeys) Add(ctx context.Context, k ports.KMSKey) error {
	switch {
	case k.Scope.IsZero():
		return ports.Invalid("key scope", "must be set")
	case k.Version == 0:
		return ports.Invalid("version", "must be 1 or more")
	case k.KeyID == "" || len(k.KeyID) > maxKMSKeyID:
		return ports.Invalid("key id", fmt.Sprintf("must be 1 to %d bytes", maxKMSKeyID))
	case k.Origin != ports.KMSKeyStockade && k.Origin != ports.KMSKeyCustomer:
		return ports.Invalid("origin", "must be stockade or customer")
	}
	_, err := r.t.exec(ctx, `INSERT INTO kms_keys (`+kmsKeyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.Scope, int64(k.Version), hex.EncodeToString(k.Ring[:]), k.KeyID, string(k.Origin), r.t.now())
	if err != nil {
		return r.t.wrap("add kms key", err)
	}
	return nil
}

func (r kmsKeys) Forget(ctx context.Context, scope ports.ShopID) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM kms_keys WHERE key_scope = ?`, scope)
	if err != nil {
		return 0, r.t.wrap("forget kms keys", err)
	}
	return int(n), nil
}
