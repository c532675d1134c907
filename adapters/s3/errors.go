package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/stockadehq/stockade/ports"
)

// codeSentinel returns the sentinel for an S3 error code, or nil. Codes
// not listed fall back to the HTTP status (5xx: ErrUnavailable).
func codeSentinel(code string) error {
	switch code {
	case "NoSuchKey":
		return ports.ErrNotFound
	case "InvalidRange", "KeyTooLongError", "InvalidArgument", "XMinioInvalidObjectName",
		"EntityTooLarge", "EntityTooSmall", "IncompleteBody", "BadDigest":
		return ports.ErrInvalid
	case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"ExpiredToken", "AllAccessDisabled":
		// The bucket vanished or the credentials stopped working: the store
		// is misconfigured, which is neither the caller's fault nor theirs
		// to see as "forbidden".
		return ports.ErrUnavailable
	case "SlowDown", "RequestTimeout", "XMinioServerNotInitialized":
		return ports.ErrUnavailable
	case "NotImplemented", "XMinioAdminKMSNotConfigured", "XMinioKMSNotConfigured":
		return ports.ErrUnsupported
	}
	return nil
}

// mapErr turns a minio-go error into a ports sentinel, wrapped with the
// operation and key. A done ctx wins: its error is wrapped instead, so
// callers can match context.Canceled. An error with no sentinel is
// reported with %v, so no *minio.ErrorResponse becomes part of the
// contract.
func mapErr(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("s3: %s %q: %w", op, key, ctxErr)
	}
	if isSentinel(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3: %s %q: %w", op, key, err)
	}
	resp := minio.ToErrorResponse(err)
	if sentinel := codeSentinel(resp.Code); sentinel != nil {
		return fmt.Errorf("s3: %s %q: %s: %w", op, key, describe(resp), sentinel)
	}
	if resp.StatusCode >= http.StatusInternalServerError {
		return fmt.Errorf("s3: %s %q: %s: %w", op, key, describe(resp), ports.ErrUnavailable)
	}
	if resp.Code == "" {
		var netErr net.Error
		if errors.As(err, &netErr) {
			return fmt.Errorf("s3: %s %q: %v: %w", op, key, err, ports.ErrUnavailable)
		}
		return fmt.Errorf("s3: %s %q: %v", op, key, err)
	}
	return fmt.Errorf("s3: %s %q: %s", op, key, describe(resp))
}

// describe renders an S3 error without the request's credentials.
func describe(r minio.ErrorResponse) string {
	if r.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", r.Code, r.StatusCode)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", r.Code, r.Message, r.StatusCode)
}

func isSentinel(err error) bool {
	for _, s := range []error{ports.ErrInvalid, ports.ErrNotFound, ports.ErrUnavailable, ports.ErrUnsupported, ports.ErrForbidden} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// ErrPublicBucket is matched by a *PublicBucketError.
var ErrPublicBucket = errors.New("bucket policy grants anonymous access")

// PublicBucketError is Open's refusal of a bucket whose policy lets anyone
// in (STO-1: objects are reached by signed URL only). Remove the anonymous
// statements (e.g. `mc anonymous set none ALIAS/BUCKET`) and start again.
type PublicBucketError struct {
	Bucket     string
	Statements []string // the offending statements: effect, principal, actions
}

func (e *PublicBucketError) Error() string {
	return fmt.Sprintf("s3: bucket %q: %v (STO-1 allows signed URLs only): %v", e.Bucket, ErrPublicBucket, e.Statements)
}

// Is reports whether target is ErrPublicBucket.
func (e *PublicBucketError) Is(target error) bool { return target == ErrPublicBucket }
