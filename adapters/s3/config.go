package s3

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/stockadehq/stockade/ports"
)

// Config selects and authenticates an S3-compatible bucket. ParseURL fills
// everything but the credentials, which come from the caller's secret
// store and never appear in the URL, logs or String.
//
//	MinIO:         s3://objects?endpoint=minio:9000&path_style=true&insecure=true
//	Cloudflare R2: s3://objects?endpoint=ACCOUNT.r2.cloudflarestorage.com&region=auto
//	AWS S3:        s3://objects?region=eu-central-1&sse=s3
type Config struct {
	Bucket string
	// Endpoint is host[:port] of the S3 API; "" is AWS (s3.amazonaws.com).
	Endpoint string
	// Region signs requests; "" asks the bucket for its location at Open.
	Region string
	// PathStyle addresses the bucket as endpoint/bucket/key (MinIO, most
	// self-hosted stores) instead of bucket.endpoint/key.
	PathStyle bool
	// Insecure speaks plain HTTP. For a store on loopback or a private
	// network only: credentials and signed URLs then travel in clear.
	Insecure bool
	// SSE asks for server-side encryption with store-managed keys
	// (SSE-S3, "x-amz-server-side-encryption: AES256") on every Put, and
	// makes Open require the bucket's default encryption so that uploads
	// through signed URLs are encrypted too (STO-4). MinIO needs a KMS
	// configured for this.
	SSE bool
	// CreateBucket makes Open create a missing bucket instead of failing.
	CreateBucket bool

	AccessKey    string
	SecretKey    Secret
	SessionToken Secret // temporary credentials only

	// PartSize is the multipart upload part size (default 16 MiB, at
	// least 5 MiB). A Put holds about one part in memory.
	PartSize uint64
	// Clock signs URLs (their start time); nil is the system clock.
	Clock ports.Clock
	// Transport carries requests; nil is minio-go's default.
	Transport http.RoundTripper
}

const (
	defaultEndpoint = "s3.amazonaws.com"
	defaultPartSize = 16 << 20
	minPartSize     = 5 << 20
)

// Secret is a credential. It prints, logs and marshals as "[redacted]";
// Reveal returns the value for the client that needs it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText redacts for JSON, YAML and reflection-based loggers.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue redacts for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the configuration without secrets, for logs and errors.
func (c Config) String() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=%s&path_style=%t&insecure=%t&sse=%t access_key=%s secret_key=%s",
		c.Bucket, c.endpoint(), c.Region, c.PathStyle, c.Insecure, c.SSE, c.AccessKey, c.SecretKey)
}

// GoString redacts for %#v, which would otherwise print the fields.
func (c Config) GoString() string { return "s3.Config(" + c.String() + ")" }

// LogValue redacts for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Config) endpoint() string {
	if c.Endpoint == "" {
		return defaultEndpoint
	}
	return c.Endpoint
}

// ParseURL reads s3://BUCKET?endpoint=HOST[:PORT]&region=R&path_style=BOOL
// &insecure=BOOL&sse=s3&create_bucket=BOOL. Unknown parameters and
// credentials in the URL are refused (ErrInvalid): a URL is logged and
// shown; secrets go in Config.AccessKey/SecretKey.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, ports.Invalid("objects url", "malformed URL")
	}
	if u.Scheme != "s3" {
		return Config{}, ports.Invalid("objects url", fmt.Sprintf("scheme must be s3, got %q", u.Scheme))
	}
	if u.User != nil {
		return Config{}, ports.Invalid("objects url", "credentials do not belong in the URL; pass them as access and secret key settings")
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return Config{}, ports.Invalid("objects url", "expected s3://BUCKET?endpoint=…, with no path (keys are chosen by Stockade)")
	}
	c := Config{Bucket: u.Host}
	for name, vs := range u.Query() {
		if len(vs) != 1 {
			return Config{}, ports.Invalid("objects url", "parameter "+name+" given more than once")
		}
		v := vs[0]
		switch name {
		case "endpoint":
			c.Endpoint = v
		case "region":
			c.Region = v
		case "path_style":
			c.PathStyle, err = parseBool(name, v)
		case "insecure":
			c.Insecure, err = parseBool(name, v)
		case "create_bucket":
			c.CreateBucket, err = parseBool(name, v)
		case "sse":
			switch v {
			case "s3":
				c.SSE = true
			case "", "none":
			default:
				err = ports.Invalid("objects url", `sse must be "s3" or "none"`)
			}
		default:
			err = ports.Invalid("objects url", "unknown parameter "+strconv.Quote(name))
		}
		if err != nil {
			return Config{}, err
		}
	}
	return c, c.validate(false)
}

func parseBool(name, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, ports.Invalid("objects url", name+" must be true or false")
	}
	return b, nil
}

// validate checks the configuration; with creds, the credentials too.
func (c Config) validate(creds bool) error {
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return ports.Invalid("bucket", fmt.Sprintf("%q is not a valid bucket name", c.Bucket))
	}
	if strings.ContainsAny(c.Endpoint, "/?#@ ") {
		return ports.Invalid("endpoint", "must be host[:port], without scheme or path")
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		return ports.Invalid("part size", "must be at least 5 MiB")
	}
	if creds && (c.AccessKey == "" || c.SecretKey == "") {
		return ports.Invalid("credentials", "access key and secret key are required (anonymous access cannot sign URLs)")
	}
	return nil
}
