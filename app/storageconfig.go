package app

import (
	"encoding/base64"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// StorageConfig configures file storage (STO-1…STO-4).
type StorageConfig struct {
	// SigningKey signs the URLs the server itself verifies: local-disk
	// object URLs and the content links of encrypted files. At least 32
	// random bytes in unpadded base64url; every instance behind one
	// public URL needs the same. Changing it invalidates links issued
	// before (they live minutes). STOCKADE_STORAGE_SIGNING_KEY, default ""
	// meaning a key generated once and kept in DataDir/objects.key (mode
	// 0600).
	SigningKey string `koanf:"signing_key"`
	// MasterKey seals the shops' key-encryption keys of envelope
	// encryption, kept under DataDir/keys. At least 32 random bytes in
	// unpadded base64url (openssl rand 32 | basenc --base64url). Losing it
	// loses every encrypted file. STOCKADE_STORAGE_MASTER_KEY, default ""
	// meaning a key generated once and kept in DataDir/master.key (mode
	// 0600) — keep that file out of the objects' backups.
	MasterKey string `koanf:"master_key"`
	// Encrypt selects the shops whose new files are envelope encrypted:
	// "" (none), "all", or a comma-separated list of shop IDs. Files
	// stay readable whatever the setting later becomes.
	// STOCKADE_STORAGE_ENCRYPT, default "".
	Encrypt string `koanf:"encrypt"`
	// Keys selects the key manager that holds the shops' key-encryption
	// keys: "local" (the embedded one, under DataDir/keys and MasterKey)
	// or "awskms" (AWS KMS, one KMS key per shop and version, or the key
	// a customer brings: see docs/keys.md). Switching loses access to
	// files encrypted under the other. STOCKADE_STORAGE_KEYS, default
	// "local".
	Keys string `koanf:"keys"`
	// KMSRegion is the AWS region of the KMS when Keys is "awskms"
	// (required then). Credentials come from the AWS SDK's default chain
	// (AWS_ACCESS_KEY_ID…, shared files, the instance's or task's role).
	// STOCKADE_STORAGE_KMS_REGION, default "".
	KMSRegion string `koanf:"kms_region"`
	// KMSEndpoint overrides the KMS endpoint, e.g. an emulator's
	// http://127.0.0.1:8080. STOCKADE_STORAGE_KMS_ENDPOINT, default ""
	// meaning AWS's own.
	KMSEndpoint string `koanf:"kms_endpoint"`
	// KMSDeletionWindowDays is the waiting period, 7 to 30 days, of the
	// deletion scheduled for a Stockade-created KMS key when a shop's keys
	// are destroyed (erasure, retention).
	// STOCKADE_STORAGE_KMS_DELETION_WINDOW_DAYS, default 0 meaning 7.
	KMSDeletionWindowDays int `koanf:"kms_deletion_window_days"`
}

// Key managers STOCKADE_STORAGE_KEYS selects.
const (
	KeysLocal  = "local"
	KeysAWSKMS = "awskms"
)

// minStorageKeyLen is the shortest signing or master key, in bytes.
const minStorageKeyLen = 32

// validate returns one *SettingError per problem with the storage settings.
func (s StorageConfig) validate() []error {
	var errs []error
	for _, k := range []struct{ env, v string }{
		{"STOCKADE_STORAGE_SIGNING_KEY", s.SigningKey},
		{"STOCKADE_STORAGE_MASTER_KEY", s.MasterKey},
	} {
		if k.v != "" {
			if _, err := parseStorageKey(k.env, k.v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := parseEncrypt(s.Encrypt); err != nil {
		errs = append(errs, err)
	}
	switch strings.ToLower(strings.TrimSpace(s.Keys)) {
	case "", KeysLocal:
	case KeysAWSKMS:
		if strings.TrimSpace(s.KMSRegion) == "" {
			errs = append(errs, problem("STOCKADE_STORAGE_KMS_REGION", "is required when STOCKADE_STORAGE_KEYS is awskms"))
		}
	default:
		errs = append(errs, problem("STOCKADE_STORAGE_KEYS", "want local or awskms, got %q", s.Keys))
	}
	if d := s.KMSDeletionWindowDays; d != 0 && (d < 7 || d > 30) {
		errs = append(errs, problem("STOCKADE_STORAGE_KMS_DELETION_WINDOW_DAYS", "must be 7 to 30 days, got %d", d))
	}
	return errs
}

// parseStorageKey decodes a base64url key of at least minStorageKeyLen
// bytes. The error names the setting and never holds the key.
func parseStorageKey(setting, v string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, problem(setting, "is not unpadded base64url")
	}
	if len(b) < minStorageKeyLen {
		return nil, problem(setting, "must decode to at least %d bytes, got %d", minStorageKeyLen, len(b))
	}
	return b, nil
}

// parseEncrypt turns STOCKADE_STORAGE_ENCRYPT into the predicate the
// storage service takes; nil encrypts no shop.
func parseEncrypt(v string) (func(ports.ShopID) bool, error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "", "none":
		return nil, nil
	case "all":
		return func(ports.ShopID) bool { return true }, nil
	}
	set := map[ports.ShopID]bool{}
	for _, part := range strings.Split(v, ",") {
		id, err := ports.ParseShopID(strings.TrimSpace(part))
		if err != nil {
			return nil, problem("STOCKADE_STORAGE_ENCRYPT", "want \"all\" or shop IDs separated by commas, got %q", strings.TrimSpace(part))
		}
		set[id] = true
	}
	return func(s ports.ShopID) bool { return set[s] }, nil
}
