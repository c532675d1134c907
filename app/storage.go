package app

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/stockadehq/stockade/adapters/awskms"
	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// Files under DataDir that the storage wiring creates on first use.
const (
	objectsKeyFile = "objects.key" // signs localfs URLs and content links
	masterKeyFile  = "master.key"  // seals the shops' key-encryption keys
	keysDir        = "keys"        // the local key manager's directory
)

// ObjectsPath is where the server serves a local-disk object store's
// signed URLs: on the bare public host, PublicURL + ObjectsPath + key.
// The signature binds the key (which names its shop), so the bare host
// serves every shop's links without needing the shop's host.
const ObjectsPath = "/objects/"

// Storage is the file storage NewStorage wires: the service, the object
// store and key manager under it, and the handler that serves a
// local-disk store's signed URLs (nil for S3, whose URLs go to S3).
type Storage struct {
	Service *storage.Service
	Objects ports.ObjectStore
	Keys    ports.KeyManager
	// Handler serves Objects' signed URLs at ObjectsPath; nil when the
	// store serves its own.
	Handler http.Handler
	close   func() error
}

// Close releases the object store.
func (s *Storage) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// StorageParts are the pieces NewStorage wires together; zero fields are
// built from the configuration.
type StorageParts struct {
	Store   ports.Store // required
	Objects ports.ObjectStore
	Keys    ports.KeyManager
	Clock   ports.Clock
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
}

// NewKeyManager returns the key manager Storage.Keys selects. "local"
// (the default): localkms in DataDir's key directory, under the storage
// master key (Storage.MasterKey, or the key file in DataDir, created on
// first use). "awskms": AWS KMS (NewAWSKeyManager), with its key directory
// in st. It seals file data keys (NewStorage), webhook secrets and
// second-factor secrets (NewAuth).
func NewKeyManager(ctx context.Context, cfg Config, st ports.Store) (ports.KeyManager, error) {
	if strings.EqualFold(strings.TrimSpace(cfg.Storage.Keys), KeysAWSKMS) {
		return NewAWSKeyManager(ctx, cfg, st)
	}
	master, err := storageKey(cfg, cfg.Storage.MasterKey, "STOCKADE_STORAGE_MASTER_KEY", masterKeyFile)
	if err != nil {
		return nil, err
	}
	m, err := localkms.New(filepath.Join(absDir(cfg.DataDir), keysDir), [][]byte{master})
	if err != nil {
		return nil, fmt.Errorf("key manager: %w", err)
	}
	return m, nil
}

// NewAWSKeyManager returns the AWS KMS key manager the Storage.KMS*
// settings configure, its key directory (kms_keys) in st. ErrInvalid
// without a region or a store.
func NewAWSKeyManager(ctx context.Context, cfg Config, st ports.Store) (*awskms.Manager, error) {
	if st == nil {
		return nil, fmt.Errorf("key manager awskms: %w", ports.Invalid("store", "must be set"))
	}
	client, err := awskms.NewClient(ctx, awskms.ClientConfig{Region: strings.TrimSpace(cfg.Storage.KMSRegion), Endpoint: strings.TrimSpace(cfg.Storage.KMSEndpoint)})
	if err != nil {
		return nil, fmt.Errorf("key manager awskms: %w", err)
	}
	m, err := awskms.New(awskms.Options{Client: client, Store: st, DeletionWindowDays: int32(cfg.Storage.KMSDeletionWindowDays)})
	if err != nil {
		return nil, fmt.Errorf("key manager awskms: %w", err)
	}
	return m, nil
}

// NewStorage builds file storage for cfg without fx: the object store
// that Objects.URL selects (file:// → localfs serving signed URLs at
// PublicURL+ObjectsPath; s3:// → the S3 adapter, checked now within ctx),
// the local key manager under DataDir/keys with Storage.MasterKey (or a
// key generated once into DataDir/master.key), and the service with the
// default kinds and Storage.Encrypt.
func NewStorage(ctx context.Context, cfg Config, p StorageParts) (*Storage, error) {
	signing, err := storageKey(cfg, cfg.Storage.SigningKey, "STOCKADE_STORAGE_SIGNING_KEY", objectsKeyFile)
	if err != nil {
		return nil, err
	}
	out := &Storage{Objects: p.Objects, Keys: p.Keys}
	if out.Objects == nil {
		if err := out.openObjects(ctx, cfg, derive(signing, "stockade/localfs-url/v1"), p.Clock); err != nil {
			return nil, err
		}
	}
	if out.Keys == nil {
		if out.Keys, err = NewKeyManager(ctx, cfg, p.Store); err != nil {
			out.Close()
			return nil, err
		}
	}
	encrypt, err := parseEncrypt(cfg.Storage.Encrypt)
	if err != nil {
		out.Close()
		return nil, err
	}
	out.Service, err = storage.New(storage.Deps{
		Store: p.Store, Objects: out.Objects, Clock: p.Clock, Keys: out.Keys, EncryptShop: encrypt,
		ContentKey: derive(signing, "stockade/file-content/v1"), Policy: p.Access,
	})
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	return out, nil
}

// openObjects opens the object store Objects.URL selects.
func (s *Storage) openObjects(ctx context.Context, cfg Config, urlKey []byte, clock ports.Clock) error {
	raw := cfg.ObjectsURL()
	switch schemeOf(raw) {
	case schemeFile:
		dir, err := objectsDir(raw)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(cfg.HTTP.PublicURL, "/") + ObjectsPath
		st, err := localfs.Open(absDir(dir), localfs.Options{BaseURL: base, SigningKey: urlKey, Clock: clock})
		if err != nil {
			return fmt.Errorf("objects %s: %w", RedactURL(raw), err)
		}
		s.Objects, s.Handler, s.close = st, st.Handler(), st.Close
		return nil
	case schemeS3:
		c, err := s3.ParseURL(raw)
		if err != nil {
			return fmt.Errorf("STOCKADE_OBJECTS_URL: %w", err)
		}
		c.AccessKey, c.SecretKey, c.Clock = cfg.Objects.AccessKey, s3.Secret(cfg.Objects.SecretKey), clock
		st, err := s3.Open(ctx, c)
		if err != nil {
			return fmt.Errorf("objects %s: %w", RedactURL(raw), err)
		}
		s.Objects = st
		return nil
	}
	return problem("STOCKADE_OBJECTS_URL", "unknown scheme (want file:// or s3://)")
}

// storageKey decodes the configured key, or reads the key file in DataDir,
// creating it with a fresh 256-bit key (mode 0600) the first time.
func storageKey(cfg Config, configured, setting, file string) ([]byte, error) {
	if configured != "" {
		return parseStorageKey(setting, configured)
	}
	path := filepath.Join(absDir(cfg.DataDir), file)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeNew(path, []byte(base64.RawURLEncoding.EncodeToString(randomKey())+"\n")); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		b, err = os.ReadFile(path) // another instance may have won the race
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	k, err := parseStorageKey(setting, string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// derive returns a 32-byte subkey of key for one purpose (HKDF-SHA256,
// RFC 5869), so one configured secret never signs two kinds of link.
func derive(key []byte, purpose string) []byte {
	// hkdf.Key fails only for a length over 255×32 bytes; 32 cannot.
	k, _ := hkdf.Key(sha256.New, key, nil, purpose, 32)
	return k
}
