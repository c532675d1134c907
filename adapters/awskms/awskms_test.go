package awskms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/awskms"
	"github.com/stockadehq/stockade/ports"
)

// The adapter's tests against a real local-kms need a store for the key
// directory, and an adapter's tests may not import another adapter
// (archtest R4): they are in app/awskms_test.go.

func TestNewRefusesBadOptions(t *testing.T) {
	_, err := awskms.New(awskms.Options{})
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = awskms.New(awskms.Options{Client: &kms.Client{}, Store: nil})
	require.ErrorIs(t, err, ports.ErrInvalid)
}
