// Package awskms is a ports.KeyManager over AWS KMS (STO-4): each KEK
// version of a shop is a symmetric KMS key, and a data key is wrapped by
// the KMS's Encrypt under it with an encryption context binding the shop
// and the version. Key material never leaves the KMS.
//
// A shop's key is either created by Stockade in the platform's account on
// first use (origin "stockade"), or an ARN the customer brings, possibly
// in its own account (origin "customer", registered with SetCustomerKey;
// the key's policy must let the platform's principal Encrypt and Decrypt).
// Which KMS key serves which version of which shop is kept in the global
// table kms_keys (ports.KMSKeyRepo), not in KMS aliases or tags: a
// customer's key lives in an account where Stockade can create neither,
// and one table read answers both "which key is current" and "was this
// ring destroyed" for both origins.
//
// Revocation: when the KMS refuses a key — disabled, pending deletion,
// deleted, or access denied because the customer revoked the grant or
// policy — WrapKey and UnwrapKey return ports.ErrKeyRevoked; the shop's
// objects are intact but unreadable until the customer restores access.
//
// DestroyKeys, for each version: a Stockade-created key is disabled and
// scheduled for deletion (DeletionWindowDays, 7 to 30, at the KMS); a
// customer's key is not touched at the KMS (Stockade may not, and should
// not, manage it). Then the shop's rows are deleted: Stockade forgets the
// keys and never calls the KMS for an old blob again (ErrNotFound, "key
// destroyed"). For a customer's key, making the ciphertexts undecryptable
// by anyone is the customer's act: disabling or deleting the key at their
// KMS.
package awskms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/stockadehq/stockade/ports"
)

// API is the part of the AWS KMS client the manager calls; *kms.Client
// satisfies it.
type API interface {
	CreateKey(ctx context.Context, in *kms.CreateKeyInput, opts ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
	DisableKey(ctx context.Context, in *kms.DisableKeyInput, opts ...func(*kms.Options)) (*kms.DisableKeyOutput, error)
	ScheduleKeyDeletion(ctx context.Context, in *kms.ScheduleKeyDeletionInput, opts ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error)
}

var _ API = (*kms.Client)(nil)

// Deletion windows the KMS accepts for ScheduleKeyDeletion, in days.
const (
	MinDeletionWindowDays     = 7
	MaxDeletionWindowDays     = 30
	DefaultDeletionWindowDays = 7
)

// Options configure a Manager.
type Options struct {
	// Client calls the KMS (required).
	Client API
	// Store keeps the kms_keys directory (required).
	Store ports.Store
	// DeletionWindowDays is the waiting period of the deletion that
	// DestroyKeys schedules for a Stockade-created key; 0 means
	// DefaultDeletionWindowDays.
	DeletionWindowDays int32
}

// Manager is a ports.KeyManager over AWS KMS. It is safe for concurrent
// use; several processes may share one database and KMS account.
type Manager struct {
	kms    API
	store  ports.Store
	window int32
	// locks serialise the writers of one scope (creation, rotation,
	// registration, destruction) in this process; the kms_keys primary
	// key serialises them across processes.
	locks [64]sync.Mutex
}

var _ ports.KeyManager = (*Manager)(nil)

// New returns a Manager. ErrInvalid for a missing client or store or a
// deletion window outside 7 to 30 days.
func New(o Options) (*Manager, error) {
	switch {
	case o.Client == nil:
		return nil, ports.Invalid("kms client", "must be set")
	case o.Store == nil:
		return nil, ports.Invalid("store", "must be set")
	case o.DeletionWindowDays == 0:
		o.DeletionWindowDays = DefaultDeletionWindowDays
	case o.DeletionWindowDays < MinDeletionWindowDays || o.DeletionWindowDays > MaxDeletionWindowDays:
		return nil, ports.Invalid("deletion window", fmt.Sprintf("must be %d to %d days", MinDeletionWindowDays, MaxDeletionWindowDays))
	}
	return &Manager{kms: o.Client, store: o.Store, window: o.DeletionWindowDays}, nil
}

func (m *Manager) lock(scope ports.ShopID) func() {
	mu := &m.locks[int(scope.UUID[15])%len(m.locks)]
	mu.Lock()
	return mu.Unlock
}

func check(ctx context.Context, scope ports.ShopID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("awskms: %w", err)
	}
	if scope.IsZero() {
		return ports.Invalid("shop", "must be set")
	}
	return nil
}

// detached keeps ctx's deadline and cancellation but none of its values,
// so that the manager's own short units of work on kms_keys can run while
// the caller is inside one of its own (webhook delivery unwraps a secret
// inside the shop's unit of work): the directory is global and read
// apart from the caller's transaction.
type detached struct{ context.Context }

func (detached) Value(any) any { return nil }

// keys lists scope's versions.
func (m *Manager) keys(ctx context.Context, scope ports.ShopID) ([]ports.KMSKey, error) {
	var out []ports.KMSKey
	err := m.store.Global(detached{ctx}, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.KMSKeys().List(ctx, scope)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, m.storeErr(ctx, scope, "read key directory", err)
	}
	return out, nil
}

// storeErr wraps a store error; a store that cannot answer is
// ErrUnavailable (never ErrNotFound, which would mean destroyed).
func (m *Manager) storeErr(ctx context.Context, scope ports.ShopID, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("awskms: shop %s: %s: %w", scope, op, ctx.Err())
	}
	if errors.Is(err, ports.ErrUnavailable) {
		return fmt.Errorf("awskms: shop %s: %s: %w", scope, op, err)
	}
	return fmt.Errorf("awskms: shop %s: %s: %w: %w", scope, op, ports.ErrUnavailable, err)
}

// add records k; ErrConflict when another writer took its version.
func (m *Manager) add(ctx context.Context, k ports.KMSKey) error {
	return m.store.Global(detached{ctx}, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.KMSKeys().Add(ctx, k)
	})
}

func current(keys []ports.KMSKey) ports.KMSKey { return keys[len(keys)-1] }

func nameOf(k ports.KMSKey) kekName { return kekName{scope: k.Scope, ring: k.Ring, version: k.Version} }

// WrapKey implements ports.KeyManager: Encrypt under the shop's current
// KMS key, creating the shop's first key in the platform's account on
// first use.
func (m *Manager) WrapKey(ctx context.Context, shop ports.ShopID, dataKey []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	if len(dataKey) < ports.MinDataKeyLen || len(dataKey) > ports.MaxDataKeyLen {
		return nil, ports.Invalid("data key", fmt.Sprintf("must be %d to %d bytes", ports.MinDataKeyLen, ports.MaxDataKeyLen))
	}
	keys, err := m.keys(ctx, shop)
	if err == nil && len(keys) == 0 {
		keys, err = m.createFirst(ctx, shop)
	}
	if err != nil {
		return nil, err
	}
	k := current(keys)
	n := nameOf(k)
	out, err := m.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(k.KeyID), Plaintext: dataKey, EncryptionContext: n.encryptionContext()})
	if err != nil {
		return nil, kmsErr(ctx, shop, n, "encrypt", err)
	}
	if len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > maxCiphertext {
		return nil, fmt.Errorf("awskms: shop %s: KEK %s: encrypt returned %d bytes: %w", shop, n, len(out.CiphertextBlob), ports.ErrUnavailable)
	}
	return sealBlob(n, out.CiphertextBlob), nil
}

// createFirst creates shop's first key unless another caller got there
// first, and returns the shop's versions.
func (m *Manager) createFirst(ctx context.Context, shop ports.ShopID) ([]ports.KMSKey, error) {
	defer m.lock(shop)()
	keys, err := m.keys(ctx, shop)
	if err != nil || len(keys) > 0 {
		return keys, err
	}
	if err := m.addStockadeKey(ctx, shop, nil); err != nil {
		return nil, err
	}
	return m.keys(ctx, shop)
}

// addStockadeKey creates a KMS key in the platform's account and records
// it as the next version of shop (version 1 of a new ring when keys is
// empty). A version another process recorded first wins: the key created
// here is then scheduled for deletion, and the call still succeeds, since
// a new version became current while it ran. The caller holds shop's lock.
func (m *Manager) addStockadeKey(ctx context.Context, shop ports.ShopID, keys []ports.KMSKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("awskms: %w", err)
	}
	n := next(shop, keys)
	out, err := m.kms.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String(fmt.Sprintf("Stockade key-encryption key of shop %s, %s", shop, n)),
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		KeySpec:     types.KeySpecSymmetricDefault,
		Tags: []types.Tag{
			{TagKey: aws.String(contextShopKey), TagValue: aws.String(shop.String())},
			{TagKey: aws.String(contextKEKKey), TagValue: aws.String(n.String())},
		},
	})
	if err != nil {
		return kmsErr(ctx, shop, n, "create key", err)
	}
	if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
		return fmt.Errorf("awskms: shop %s: create key returned no ARN: %w", shop, ports.ErrUnavailable)
	}
	arn := *out.KeyMetadata.Arn
	err = m.add(ctx, ports.KMSKey{Scope: shop, Ring: n.ring, Version: n.version, KeyID: arn, Origin: ports.KMSKeyStockade})
	if err == nil {
		return nil
	}
	// Not recorded: the key serves nothing; do not leave it enabled.
	_ = m.retire(context.WithoutCancel(ctx), arn) // best effort: it is disabled at worst
	if errors.Is(err, ports.ErrConflict) {
		return nil
	}
	return m.storeErr(ctx, shop, "record key", err)
}

// next names the version after keys (version 1 of a fresh ring for none).
func next(shop ports.ShopID, keys []ports.KMSKey) kekName {
	if len(keys) == 0 {
		n := kekName{scope: shop, version: 1}
		_, _ = rand.Read(n.ring[:]) // never fails (crypto/rand)
		return n
	}
	n := nameOf(current(keys))
	n.version++
	return n
}

// retire disables a Stockade-created key and schedules its deletion,
// treating a key already pending deletion or gone as done.
func (m *Manager) retire(ctx context.Context, arn string) error {
	_, err := m.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)})
	if err != nil && !gone(err) {
		return err
	}
	_, err = m.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(arn), PendingWindowInDays: aws.Int32(m.window)})
	if err != nil && !gone(err) {
		return err
	}
	return nil
}

// gone reports a KMS answer meaning the key is already pending deletion
// or deleted.
func gone(err error) bool {
	var invalid *types.KMSInvalidStateException
	var notFound *types.NotFoundException
	return errors.As(err, &invalid) || errors.As(err, &notFound)
}

// UnwrapKey implements ports.KeyManager: Decrypt under the KMS key of the
// version the blob names, with the encryption context the blob was
// wrapped with. Besides the port's errors: ErrKeyRevoked when the KMS
// refuses the key (disabled, pending deletion, deleted, access denied).
func (m *Manager) UnwrapKey(ctx context.Context, shop ports.ShopID, wrapped []byte) ([]byte, error) {
	if err := check(ctx, shop); err != nil {
		return nil, err
	}
	n, ciphertext, err := parseBlob(wrapped)
	if err != nil {
		return nil, err
	}
	if n.scope != shop {
		return nil, ports.Invalid("wrapped key", "wrapped for another shop")
	}
	keys, err := m.keys(ctx, shop)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k ports.KMSKey) bool { return k.Version == n.version })
	switch {
	case len(keys) == 0:
		return nil, destroyed(shop, "no keys")
	case keys[0].Ring != n.ring:
		return nil, destroyed(shop, "its key ring was destroyed")
	case i < 0:
		return nil, destroyed(shop, "KEK version unknown")
	}
	out, err := m.kms.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(keys[i].KeyID), CiphertextBlob: ciphertext, EncryptionContext: n.encryptionContext()})
	if err != nil {
		return nil, kmsErr(ctx, shop, n, "decrypt", err)
	}
	if len(out.Plaintext) < ports.MinDataKeyLen || len(out.Plaintext) > ports.MaxDataKeyLen {
		clear(out.Plaintext)
		return nil, ports.Invalid("wrapped key", "does not hold a data key")
	}
	return out.Plaintext, nil
}

func destroyed(shop ports.ShopID, why string) error {
	return fmt.Errorf("awskms: shop %s: key destroyed (%s): %w", shop, why, ports.ErrNotFound)
}

// RotateKey implements ports.KeyManager. For a shop on Stockade-created
// keys it creates a new KMS key as the next version. For a shop on a
// customer's key it records the next version under the same key: the key
// material is the customer's to rotate (KMS key rotation keeps old
// ciphertexts decryptable), or to replace with SetCustomerKey.
func (m *Manager) RotateKey(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	defer m.lock(shop)()
	keys, err := m.keys(ctx, shop)
	if err != nil {
		return err
	}
	if len(keys) > 0 && current(keys).Origin == ports.KMSKeyCustomer {
		n := next(shop, keys)
		return m.addCustomer(ctx, n, current(keys).KeyID)
	}
	return m.addStockadeKey(ctx, shop, keys)
}

// addCustomer records the customer's key as version n.
func (m *Manager) addCustomer(ctx context.Context, n kekName, arn string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("awskms: %w", err)
	}
	err := m.add(ctx, ports.KMSKey{Scope: n.scope, Ring: n.ring, Version: n.version, KeyID: arn, Origin: ports.KMSKeyCustomer})
	if err != nil && !errors.Is(err, ports.ErrConflict) {
		return m.storeErr(ctx, n.scope, "record key", err)
	}
	return err
}

// SetCustomerKey makes the customer's KMS key arn (a key ARN, not an
// alias, possibly in another account) the shop's current KEK, as the next
// version of its ring; it returns that version ("<ring>/v<n>"). It first
// proves the platform may use the key: an Encrypt and a Decrypt of a
// random test key under the shop's encryption context. Blobs wrapped under
// earlier versions (Stockade's keys or another customer key) still unwrap
// while those keys are held. ErrInvalid for a malformed ARN,
// ErrKeyRevoked when the KMS refuses the key, ErrConflict when another
// writer added a version meanwhile (retry).
func (m *Manager) SetCustomerKey(ctx context.Context, shop ports.ShopID, arn string) (string, error) {
	if err := check(ctx, shop); err != nil {
		return "", err
	}
	if err := ValidKeyARN(arn); err != nil {
		return "", err
	}
	defer m.lock(shop)()
	keys, err := m.keys(ctx, shop)
	if err != nil {
		return "", err
	}
	n := next(shop, keys)
	probe := make([]byte, 32)
	_, _ = rand.Read(probe)
	enc, err := m.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: probe, EncryptionContext: n.encryptionContext()})
	if err != nil {
		return "", kmsErr(ctx, shop, n, "test encrypt under the customer's key", err)
	}
	dec, err := m.kms.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(arn), CiphertextBlob: enc.CiphertextBlob, EncryptionContext: n.encryptionContext()})
	if err != nil {
		return "", kmsErr(ctx, shop, n, "test decrypt under the customer's key", err)
	}
	if string(dec.Plaintext) != string(probe) {
		return "", fmt.Errorf("awskms: shop %s: the customer's key did not give back the test key: %w", shop, ports.ErrInvalid)
	}
	if err := m.addCustomer(ctx, n, arn); err != nil {
		return "", err
	}
	return n.String(), nil
}

// ValidKeyARN checks that arn is a KMS key ARN,
// arn:PARTITION:kms:REGION:ACCOUNT:key/ID; ErrInvalid otherwise. Aliases
// are refused: whoever controls an alias could re-point it.
func ValidKeyARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "kms" ||
		parts[3] == "" || len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" ||
		!strings.HasPrefix(parts[5], "key/") || len(parts[5]) == len("key/") || len(arn) > 2048 {
		return ports.Invalid("kms key arn", "must be a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID (not an alias)")
	}
	return nil
}

// DestroyKeys implements ports.KeyManager: every Stockade-created key of
// the shop is disabled and scheduled for deletion at the KMS, then the
// shop's rows are deleted, so Stockade never unwraps its blobs again
// (ErrNotFound). A customer's key is not touched at the KMS: Stockade
// forgets it. A failure at the KMS leaves the rows, so a retry finishes.
func (m *Manager) DestroyKeys(ctx context.Context, shop ports.ShopID) error {
	if err := check(ctx, shop); err != nil {
		return err
	}
	defer m.lock(shop)()
	keys, err := m.keys(ctx, shop)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Origin != ports.KMSKeyStockade || seen[k.KeyID] {
			continue
		}
		seen[k.KeyID] = true
		if err := m.retire(ctx, k.KeyID); err != nil {
			return kmsErr(ctx, shop, nameOf(k), "disable and schedule deletion", err)
		}
	}
	err = m.store.Global(detached{ctx}, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.KMSKeys().Forget(ctx, shop)
		return err
	})
	if err != nil {
		return m.storeErr(ctx, shop, "forget keys", err)
	}
	return nil
}

// kmsErr maps a KMS error of op on KEK n to the port's sentinels: ctx's
// own error when ctx is done; ErrKeyRevoked when the KMS refuses the key;
// ErrInvalid for a ciphertext it does not accept; ErrUnavailable for the
// rest (unreachable, throttled, internal). The key's ARN stays out of the
// message, which may reach a shop member.
func kmsErr(ctx context.Context, shop ports.ShopID, n kekName, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("awskms: shop %s: KEK %s: %s: %w", shop, n, op, ctx.Err())
	}
	code := ""
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	switch code {
	case "DisabledException", "KMSInvalidStateException", "NotFoundException", "AccessDeniedException", "InvalidGrantTokenException":
		return fmt.Errorf("awskms: shop %s: KEK %s: %s: the KMS refuses the key (%s): %w", shop, n, op, code, ports.ErrKeyRevoked)
	case "InvalidCiphertextException", "IncorrectKeyException":
		return fmt.Errorf("awskms: shop %s: KEK %s: %s: %w", shop, n, op, ports.Invalid("wrapped key", "the KMS does not accept it ("+code+")"))
	}
	return fmt.Errorf("awskms: shop %s: KEK %s: %s: %w: %w", shop, n, op, ports.ErrUnavailable, err)
}
