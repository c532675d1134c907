package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/stockadehq/stockade/ports"
)

// The TOTP parameters (RFC 6238) every authenticator app supports:
// HMAC-SHA1, six digits, 30-second steps, and a 160-bit secret (RFC 4226's
// recommended length). A code is accepted for the current step and one on
// either side (±30 s of clock drift).
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSkew       = 1
	totpSecretSize = 20
	// RecoveryCodeCount is how many recovery codes an owner is given.
	RecoveryCodeCount = 10
	// recoveryCodeBytes is a recovery code's entropy: 80 bits, written
	// as 16 base32 characters.
	recoveryCodeBytes = 10
	qrSize            = 256
)

// FactorKeyScope is the key scope under which the KeyManager wraps the
// data keys of TOTP secrets. Second factors belong to users and operators,
// who are global, not to a shop; the scope is a fixed ID that names no
// shop (shop IDs are UUIDv7, this one is version 4 with a fixed pattern),
// so destroying a shop's keys never touches it, and rotating it is
// RotateKey(FactorKeyScope()).
func FactorKeyScope() ports.ShopID {
	return ports.ShopID{UUID: uuid.UUID{0x5e, 0xc0, 0x4d, 0xfa, 0xc7, 0x02, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}}
}

// sealedVersion prefixes a sealed secret: the format below.
const sealedVersion = 1

// sealSecret encrypts a TOTP secret for owner: a fresh 256-bit data key,
// wrapped by the KeyManager under FactorKeyScope, encrypts the secret with
// AES-256-GCM bound to the owner (associated data), so a sealed secret
// copied to another owner's row does not open. The result is
//
//	version (1) | len(wrapped) (2, big endian) | wrapped | nonce (12) | ciphertext+tag
func (s *Service) sealSecret(ctx context.Context, owner ports.FactorOwner, secret []byte) ([]byte, error) {
	return s.sealBytes(ctx, "seal second factor", sealAAD(owner), secret)
}

// openSecret reverses sealSecret for owner.
func (s *Service) openSecret(ctx context.Context, owner ports.FactorOwner, sealed []byte) ([]byte, error) {
	return s.openBytes(ctx, "open second factor", sealAAD(owner), sealed)
}

// sealBytes seals secret in the format sealSecret describes, bound to the
// associated data aad; op names the operation in errors.
func (s *Service) sealBytes(ctx context.Context, op string, aad, secret []byte) ([]byte, error) {
	if s.factorKeys == nil {
		return nil, errNoFactorKeys
	}
	dataKey := make([]byte, 32)
	_, _ = rand.Read(dataKey) // never fails since Go 1.24
	wrapped, err := s.factorKeys.WrapKey(ctx, FactorKeyScope(), dataKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	aead, err := newSealAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := []byte{sealedVersion}
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, secret, aad), nil
}

// openBytes reverses sealBytes for the same aad. ErrInvalid for sealed
// bytes that are malformed, altered or bound to other associated data.
func (s *Service) openBytes(ctx context.Context, op string, aad, sealed []byte) ([]byte, error) {
	if s.factorKeys == nil {
		return nil, errNoFactorKeys
	}
	corrupt := fmt.Errorf("%s: sealed secret is malformed: %w", op, ports.ErrInvalid)
	if len(sealed) < 3 || sealed[0] != sealedVersion {
		return nil, corrupt
	}
	n := int(binary.BigEndian.Uint16(sealed[1:3]))
	rest := sealed[3:]
	if len(rest) < n+12 {
		return nil, corrupt
	}
	dataKey, err := s.factorKeys.UnwrapKey(ctx, FactorKeyScope(), rest[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	aead, err := newSealAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	nonce, ct := rest[n:n+aead.NonceSize()], rest[n+aead.NonceSize():]
	secret, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("%s: sealed for another owner or altered: %w", op, ports.ErrInvalid)
	}
	return secret, nil
}

func newSealAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal second factor: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealAAD(owner ports.FactorOwner) []byte { return []byte("stockade/totp/v1\x00" + owner.String()) }

var errNoFactorKeys = fmt.Errorf("second factors need a key manager (auth.Deps.FactorKeys): %w", ports.ErrUnavailable)

// TOTPEnrolment is a started TOTP enrolment, shown to its owner once: the
// base32 secret to type in, the otpauth:// URI an authenticator app
// reads, and that URI as a QR code (PNG).
type TOTPEnrolment struct {
	Secret string
	URI    string
	QRPNG  []byte
}

// newTOTPKey makes a fresh secret for account (an e-mail address) and its
// enrolment: secret bytes, base32 text, URI and QR code.
func (s *Service) newTOTPKey(account string) ([]byte, TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.TOTPIssuer, AccountName: account, Period: totpPeriod, SecretSize: totpSecretSize,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, TOTPEnrolment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil {
		return nil, TOTPEnrolment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, TOTPEnrolment{}, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, TOTPEnrolment{}, fmt.Errorf("totp qr code: %w", err)
	}
	return raw, TOTPEnrolment{Secret: key.Secret(), URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// totpStep returns the time step t falls in.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchTOTP returns the step within ±totpSkew of now for which code is
// the secret's code, or false. It computes every candidate and compares
// each in constant time (hotp.ValidateCustom), whatever matched first.
func matchTOTP(secret []byte, code string, now time.Time) (int64, bool) {
	code = normalizeCode(code)
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	opts := hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	cur := totpStep(now)
	var step int64
	matched := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		ok, err := hotp.ValidateCustom(code, uint64(cur+d), b32, opts)
		if err == nil && ok && !matched {
			step, matched = cur+d, true
		}
	}
	return step, matched
}

// TOTPCode returns secret's code (base32, as TOTPEnrolment.Secret) at t:
// for tests and tools that play the authenticator app.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(strings.ToUpper(secret), t, totp.ValidateOpts{
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
}

// normalizeCode drops the spaces and dashes people type into codes and
// lower-cases them.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
}

// newRecoveryCodes returns RecoveryCodeCount fresh codes as shown
// ("abcd-efgh-ijkl-mnop") and their hashes as stored.
func newRecoveryCodes() ([]string, [][]byte) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, recoveryCodeBytes)
		_, _ = rand.Read(b)
		raw := strings.ToLower(enc.EncodeToString(b)) // 16 characters
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		hashes[i] = hashRecoveryCode(raw)
	}
	return codes, hashes
}

// hashRecoveryCode is the stored form of a normalised recovery code.
func hashRecoveryCode(normalized string) []byte {
	sum := sha256.Sum256([]byte("stockade/recovery-code/v1\x00" + normalized))
	return sum[:]
}

// matchRecoveryCode returns the hash of the unused code among codes that
// code is, comparing every unused hash in constant time.
func matchRecoveryCode(codes []ports.RecoveryCode, code string) ([]byte, bool) {
	h := hashRecoveryCode(normalizeCode(code))
	var match []byte
	for _, c := range codes {
		if c.Used() {
			continue
		}
		if subtle.ConstantTimeCompare(c.Hash, h) == 1 {
			match = c.Hash
		}
	}
	return match, match != nil
}
