package awskms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/stockadehq/stockade/ports"
)

// ClientConfig selects the KMS to call.
type ClientConfig struct {
	// Region is the AWS region (required), e.g. "eu-west-1".
	Region string
	// Endpoint overrides the KMS endpoint, e.g. an emulator's
	// "http://127.0.0.1:8080"; empty for AWS's own.
	Endpoint string
	// AccessKeyID and SecretAccessKey, when both set, are static
	// credentials; otherwise the SDK's default chain is used
	// (environment, shared files, the instance's or task's role).
	AccessKeyID     string
	SecretAccessKey string
}

// NewClient returns a KMS client for c. ErrInvalid without a region.
func NewClient(ctx context.Context, c ClientConfig) (*kms.Client, error) {
	if c.Region == "" {
		return nil, ports.Invalid("kms region", "must be set")
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.Region)}
	if c.AccessKeyID != "" && c.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("awskms: load AWS configuration: %w", err)
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	}), nil
}
