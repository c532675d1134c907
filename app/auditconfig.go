package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/ports"
)

// auditKeyFile is where the audit checkpoints' signing key is kept, under
// DataDir.
const auditKeyFile = "audit.key"

// AuditKeyName names the note key that signs audit checkpoints.
const AuditKeyName = "stockade-audit"

// AuditKeys are the keys of audit checkpoints (AUD-4).
type AuditKeys struct {
	// Signer signs new checkpoints.
	Signer note.Signer
	// Verifiers check checkpoints: the signer's key and any older keys
	// kept after a rotation.
	Verifiers note.Verifiers
	// VerifierKey is the signer's public key in note verifier-key form
	// ("stockade-audit+<hash>+<key>"): give it to whoever verifies
	// checkpoints outside this installation.
	VerifierKey string
}

// LoadAuditKeys reads the audit checkpoint keys from DataDir/audit.key,
// creating the file with a fresh Ed25519 note key (mode 0600) the first
// time. The file holds the signer key ("PRIVATE+KEY+stockade-audit+…") on
// its first line and its verifier key on the second; further lines are
// verifier keys of earlier signers, still accepted on checkpoints they
// signed. Keep the file out of the database's backups: whoever holds it
// can sign checkpoints.
func LoadAuditKeys(cfg Config) (AuditKeys, error) {
	path := AuditKeyPath(cfg)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, vkey, gerr := note.GenerateKey(rand.Reader, AuditKeyName)
		if gerr != nil {
			return AuditKeys{}, fmt.Errorf("generate audit key: %w", gerr)
		}
		if err := writeNew(path, []byte(skey+"\n"+vkey+"\n")); err != nil && !errors.Is(err, fs.ErrExist) {
			return AuditKeys{}, fmt.Errorf("create audit key file: %w", err)
		}
		b, err = os.ReadFile(path) // another process may have won the race
	}
	if err != nil {
		return AuditKeys{}, fmt.Errorf("read audit key file: %w", err)
	}
	return parseAuditKeys(path, string(b))
}

// AuditKeyPath is where LoadAuditKeys keeps the audit keys.
func AuditKeyPath(cfg Config) string { return filepath.Join(absDir(cfg.DataDir), auditKeyFile) }

// ReadAuditKeys reads the audit checkpoint keys like LoadAuditKeys but
// never creates the file: verification only reads keys (a key made up on
// the spot would make every signed checkpoint look forged). Without the
// file it returns an error naming it that matches ports.ErrNotFound.
func ReadAuditKeys(cfg Config) (AuditKeys, error) {
	path := AuditKeyPath(cfg)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return AuditKeys{}, fmt.Errorf("no audit key file %s: %w", path, ports.ErrNotFound)
	}
	if err != nil {
		return AuditKeys{}, fmt.Errorf("read audit key file: %w", err)
	}
	return parseAuditKeys(path, string(b))
}

// parseAuditKeys parses the key file's text. Errors name the file and the
// line, never a key.
func parseAuditKeys(path, text string) (AuditKeys, error) {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return AuditKeys{}, fmt.Errorf("audit key file %s: want a signer key and its verifier key on two lines", path)
	}
	signer, err := note.NewSigner(lines[0])
	if err != nil {
		return AuditKeys{}, fmt.Errorf("audit key file %s: line 1 is not a note signer key", path)
	}
	var verifiers []note.Verifier
	for i, l := range lines[1:] {
		v, err := note.NewVerifier(l)
		if err != nil {
			return AuditKeys{}, fmt.Errorf("audit key file %s: line %d is not a note verifier key", path, i+2)
		}
		verifiers = append(verifiers, v)
	}
	probe := []byte("stockade audit key check\n")
	sig, err := signer.Sign(probe)
	if v := verifiers[0]; err != nil || v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() || !v.Verify(probe, sig) {
		return AuditKeys{}, fmt.Errorf("audit key file %s: line 2 is not the verifier key of line 1", path)
	}
	return AuditKeys{Signer: signer, Verifiers: note.VerifierList(verifiers...), VerifierKey: lines[1]}, nil
}
