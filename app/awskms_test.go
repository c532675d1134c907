package app_test

// The AWS KMS key manager (adapters/awskms, STO-4) against a real
// local-kms process, with its key directory on SQLite and on Postgres as
// the application role. It lives here rather than in the adapter's
// package because an adapter's tests may not import another adapter
// (archtest R4), and the directory needs a store.

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/awskms"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
	"github.com/stockadehq/stockade/stockadetest"
)

// kmsWorld is a manager over a real local-kms and a fresh store, and
// a raw KMS client to act as the key's owner.
type kmsWorld struct {
	km     *awskms.Manager
	client *kms.Client
	store  ports.Store
}

func newKMSWorld(t *testing.T, open func(testing.TB) ports.Store) kmsWorld {
	t.Helper()
	lk := testinfra.StartLocalKMS(t)
	ctx := context.Background()
	client, err := awskms.NewClient(ctx, awskms.ClientConfig{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"})
	require.NoError(t, err)
	st := open(t)
	km, err := awskms.New(awskms.Options{Client: client, Store: st})
	require.NoError(t, err)
	return kmsWorld{km: km, client: client, store: st}
}

// kmsStores are the stores the AWS KMS adapter keeps its key directory in.
var kmsStores = []struct {
	name string
	open func(testing.TB) ports.Store
}{
	{"sqlite", func(t testing.TB) ports.Store { return stockadetest.SQLite(t) }},
	{"postgres", func(t testing.TB) ports.Store { return stockadetest.Postgres(t) }},
}

// TestAWSKMSConformance: adapters/awskms against a real local-kms passes
// the KeyManager suite, its key directory on each store.
func TestAWSKMSConformance(t *testing.T) {
	for _, s := range kmsStores {
		t.Run(s.name, func(t *testing.T) {
			porttest.TestKeyManager(t, porttest.KeyManagerHarness{
				New:        func(t *testing.T) ports.KeyManager { return newKMSWorld(t, s.open).km },
				KEKVersion: awskms.KEKVersion,
			})
		})
	}
}

func kmsDataKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// keysOf returns the shop's directory rows.
func (w kmsWorld) keysOf(t *testing.T, shop ports.ShopID) []ports.KMSKey {
	t.Helper()
	var out []ports.KMSKey
	require.NoError(t, w.store.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.KMSKeys().List(ctx, shop)
		return err
	}))
	return out
}

func (w kmsWorld) keyState(t *testing.T, arn string) types.KeyState {
	t.Helper()
	out, err := w.client.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	require.NoError(t, err)
	return out.KeyMetadata.KeyState
}

func TestAWSKMSRevokedAtTheKMS(t *testing.T) {
	for _, s := range kmsStores {
		t.Run(s.name, func(t *testing.T) { testRevokedAtTheKMS(t, s.open) })
	}
}

func testRevokedAtTheKMS(t *testing.T, open func(testing.TB) ports.Store) {
	w := newKMSWorld(t, open)
	ctx := context.Background()
	shop := ports.NewShopID()
	key := kmsDataKey(t)
	blob, err := w.km.WrapKey(ctx, shop, key)
	require.NoError(t, err)
	keys := w.keysOf(t, shop)
	require.Len(t, keys, 1)
	assert.Equal(t, ports.KMSKeyStockade, keys[0].Origin)

	_, err = w.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keys[0].KeyID)})
	require.NoError(t, err)
	got, err := w.km.UnwrapKey(ctx, shop, blob)
	require.ErrorIs(t, err, ports.ErrKeyRevoked, "a disabled key")
	assert.NotErrorIs(t, err, ports.ErrInvalid)
	assert.NotErrorIs(t, err, ports.ErrNotFound)
	assert.NotContains(t, err.Error(), keys[0].KeyID, "the ARN stays out of errors")
	assert.Nil(t, got)
	_, err = w.km.WrapKey(ctx, shop, kmsDataKey(t))
	require.ErrorIs(t, err, ports.ErrKeyRevoked, "wrapping under a disabled key")

	_, err = w.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keys[0].KeyID)})
	require.NoError(t, err)
	got, err = w.km.UnwrapKey(ctx, shop, blob)
	require.NoError(t, err, "access restored")
	require.Equal(t, key, got)

	_, err = w.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keys[0].KeyID), PendingWindowInDays: aws.Int32(7)})
	require.NoError(t, err)
	_, err = w.km.UnwrapKey(ctx, shop, blob)
	require.ErrorIs(t, err, ports.ErrKeyRevoked, "a key pending deletion")
}

func TestAWSKMSCustomerKey(t *testing.T) {
	for _, s := range kmsStores {
		t.Run(s.name, func(t *testing.T) { testCustomerKey(t, s.open) })
	}
}

func testCustomerKey(t *testing.T, open func(testing.TB) ports.Store) {
	w := newKMSWorld(t, open)
	ctx := context.Background()
	shop := ports.NewShopID()
	early := kmsDataKey(t)
	earlyBlob, err := w.km.WrapKey(ctx, shop, early) // on a Stockade key first
	require.NoError(t, err)

	created, err := w.client.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("the customer's own key")})
	require.NoError(t, err)
	arn := *created.KeyMetadata.Arn

	for _, bad := range []string{"", "alias/mine", "arn:aws:kms:us-east-1:111122223333:alias/mine", "arn:aws:s3:::bucket", "arn:aws:kms:us-east-1:1234:key/x"} {
		_, err := w.km.SetCustomerKey(ctx, shop, bad)
		assert.ErrorIs(t, err, ports.ErrInvalid, "ARN %q", bad)
	}
	v, err := w.km.SetCustomerKey(ctx, shop, arn)
	require.NoError(t, err)
	key := kmsDataKey(t)
	blob, err := w.km.WrapKey(ctx, shop, key)
	require.NoError(t, err)
	got, err := awskms.KEKVersion(blob)
	require.NoError(t, err)
	assert.Equal(t, v, got, "WrapKey uses the customer's key from now on")
	keys := w.keysOf(t, shop)
	require.Len(t, keys, 2)
	assert.Equal(t, ports.KMSKeyCustomer, keys[1].Origin)
	assert.Equal(t, arn, keys[1].KeyID)

	// The customer revokes: files under its key fail as revoked, files
	// under Stockade's earlier key still open.
	_, err = w.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)})
	require.NoError(t, err)
	_, err = w.km.UnwrapKey(ctx, shop, blob)
	require.ErrorIs(t, err, ports.ErrKeyRevoked)
	out, err := w.km.UnwrapKey(ctx, shop, earlyBlob)
	require.NoError(t, err)
	require.Equal(t, early, out)
	_, err = w.km.SetCustomerKey(ctx, ports.NewShopID(), arn)
	require.ErrorIs(t, err, ports.ErrKeyRevoked, "a disabled key is refused at registration")
	_, err = w.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(arn)})
	require.NoError(t, err)

	// Destruction: Stockade's key is disabled and scheduled for deletion,
	// the customer's is left alone, and Stockade forgets both.
	require.NoError(t, w.km.DestroyKeys(ctx, shop))
	assert.Equal(t, types.KeyStatePendingDeletion, w.keyState(t, keys[0].KeyID))
	assert.Equal(t, types.KeyStateEnabled, w.keyState(t, arn))
	assert.Empty(t, w.keysOf(t, shop))
	for _, b := range [][]byte{earlyBlob, blob} {
		_, err := w.km.UnwrapKey(ctx, shop, b)
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Contains(t, err.Error(), "key destroyed")
	}
	require.NoError(t, w.km.DestroyKeys(ctx, shop), "idempotent")
}
