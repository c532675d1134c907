package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/awskms"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// TestKMSKeyRevoked: acceptance 3 of issue 21 — files envelope encrypted
// under AWS KMS (a real local-kms); the shop's key disabled at the KMS
// makes a download answer a clear "key revoked" problem, never
// corruption; enabled again, the file downloads byte for byte.
func TestKMSKeyRevoked(t *testing.T) {
	lk := testinfra.StartLocalKMS(t)
	ctx := context.Background()
	client, err := awskms.NewClient(ctx, awskms.ClientConfig{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"})
	require.NoError(t, err)
	var km *awskms.Manager
	h := newFileHarness(t, func(o *fileOptions) {
		o.encrypt = func(ports.ShopID) bool { return true }
		o.keysFn = func(t testing.TB, st ports.Store) storage.KeyWrapper {
			m, err := awskms.New(awskms.Options{Client: client, Store: st})
			require.NoError(t, err)
			km = m
			return m
		}
	})
	body := noise(10_000)
	f := h.uploaded(h.tomCookie, "blob", "secret.bin", body)
	require.True(t, f.Encrypted)

	var keys []ports.KMSKey
	require.NoError(t, h.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		keys, err = tx.KMSKeys().List(ctx, h.acme.ID)
		return err
	}))
	require.Len(t, keys, 1, "the shop's first key was created on its first upload")
	_, err = client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keys[0].KeyID)})
	require.NoError(t, err)

	u, res := h.downloadURL(h.valCookie, "", f.ID)
	require.NotEmpty(t, u, "status %d", res.StatusCode)
	got := h.do(request{method: http.MethodGet, target: u})
	p := problemOf(t, got, http.StatusConflict)
	assert.Contains(t, p.Detail, "revoked", "a clear error")
	assert.NotContains(t, p.Detail, keys[0].KeyID, "the key's ARN is not shown")
	res = h.upload(h.tomCookie, "blob", "more.bin", noise(100))
	problemOf(t, res, http.StatusConflict)

	_, err = client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keys[0].KeyID)})
	require.NoError(t, err)
	ok, b := h.fetch(u)
	require.Equal(t, http.StatusOK, ok.StatusCode)
	assert.Equal(t, body, b)

	require.NoError(t, km.DestroyKeys(ctx, h.acme.ID))
	p = problemOf(t, h.do(request{method: http.MethodGet, target: u}), http.StatusNotFound)
	assert.Contains(t, p.Detail, "key destroyed")
}
