// Package authmail is the outbox of the authentication flows' e-mail
// (AUTH-4, TEN-9, OPS-1): sign-in links, invitations and mailbox proofs.
// A use case enqueues its mail through Outbox.Enqueue in the same unit of
// work as the token the mail carries, so a rolled-back request sends
// nothing and a crash after the commit still delivers; a Worker then
// delivers the queued mail through the configured ports.EmailSender, at
// least once, with the mail's ID as the idempotency key.
//
// Bodies carry tokens, so they never reach the store in clear: Enqueue
// seals each body with AES-256-GCM under a key derived (HKDF-SHA256) from
// the server's session signing keys, bound to the mail's ID, kind,
// recipient and subject, and the store wipes the sealed body when the mail
// ends.
package authmail

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// Key is one server secret the sealing keys are derived from: the session
// signing keys (auth.Key), named by an ID that travels in each sealed
// body so keys can rotate.
type Key struct {
	ID     string // 1 to 255 bytes
	Secret []byte // at least 32 bytes
}

// hkdfInfo separates the sealing keys from every other use of the
// session secrets.
const hkdfInfo = "stockade auth mail body v1"

// sealVersion is the first byte of a sealed body.
const sealVersion = 1

// Outbox seals auth mail and enqueues it. Safe for concurrent use.
type Outbox struct {
	current string                 // the ID of the key that seals
	aeads   map[string]cipher.AEAD // by key ID; every key opens
}

// New returns an Outbox that seals under the first key and opens with
// any of keys. ErrInvalid for no keys, an empty, long or repeated ID, or a
// secret shorter than 32 bytes.
func New(keys ...Key) (*Outbox, error) {
	if len(keys) == 0 {
		return nil, ports.Invalid("auth mail keys", "at least one key is required")
	}
	o := &Outbox{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if k.ID == "" || len(k.ID) > 255 {
			return nil, ports.Invalid("auth mail keys", "key IDs must be 1 to 255 bytes")
		}
		if _, dup := o.aeads[k.ID]; dup {
			return nil, ports.Invalid("auth mail keys", fmt.Sprintf("key id %q is repeated", k.ID))
		}
		if len(k.Secret) < 32 {
			return nil, ports.Invalid("auth mail keys", fmt.Sprintf("key %q must have at least 32 bytes", k.ID))
		}
		derived, err := hkdf.Key(sha256.New, k.Secret, nil, hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("auth mail keys: derive: %w", err)
		}
		block, err := aes.NewCipher(derived)
		if err != nil {
			return nil, fmt.Errorf("auth mail keys: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("auth mail keys: %w", err)
		}
		o.aeads[k.ID] = aead
	}
	return o, nil
}

// Enqueue seals m's body and enqueues m as a mail of kind through q, the
// unit of work's auth mail queue (tx.AuthMail()): it commits, and is sent,
// only if that unit of work commits. The recipient is normalised. ErrInvalid
// for a malformed address, kind or subject, or an empty body.
func (o *Outbox) Enqueue(ctx context.Context, q ports.AuthMailQueue, kind ports.AuthMailKind, m ports.Mail) error {
	if q == nil {
		return ports.Invalid("auth mail queue", "is required")
	}
	if err := ports.ValidateAuthMailKind(kind); err != nil {
		return err
	}
	if m.Text == "" {
		return ports.Invalid("body", "must not be empty")
	}
	am := ports.AuthMail{ID: ports.NewAuthMailID(), Kind: kind, To: ports.NormalizeEmail(m.To), Subject: m.Subject}
	if err := ports.ValidateEmail(am.To); err != nil {
		return err
	}
	am.Sealed = o.seal(am, []byte(m.Text))
	if _, err := q.Enqueue(ctx, am); err != nil {
		return fmt.Errorf("enqueue %s mail: %w", kind, err)
	}
	return nil
}

// errCannotOpen: the sealed body does not open (a key no longer
// configured, or a row that was altered).
var errCannotOpen = errors.New("the sealed body does not open under the configured keys (a session key was removed, or the row was altered)")

// Open returns the mail m carries, its body unsealed. It fails for a body
// sealed under a key that is no longer configured, or one whose row was
// altered (another recipient, subject, kind or ID than it was sealed
// for): the error matches ports.ErrInvalid and holds no content.
func (o *Outbox) Open(m ports.AuthMail) (ports.Mail, error) {
	b := m.Sealed
	if len(b) < 2 || b[0] != sealVersion || len(b) < 2+int(b[1]) {
		return ports.Mail{}, fmt.Errorf("%w: %w", errCannotOpen, ports.ErrInvalid)
	}
	aead, ok := o.aeads[string(b[2:2+int(b[1])])]
	rest := b[2+int(b[1]):]
	if !ok || len(rest) < aead.NonceSize()+aead.Overhead() {
		return ports.Mail{}, fmt.Errorf("%w: %w", errCannotOpen, ports.ErrInvalid)
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	text, err := aead.Open(nil, nonce, ct, additionalData(m))
	if err != nil {
		return ports.Mail{}, fmt.Errorf("%w: %w", errCannotOpen, ports.ErrInvalid)
	}
	return ports.Mail{To: m.To, Subject: m.Subject, Text: string(text)}, nil
}

// seal returns version, key ID, nonce and AES-256-GCM ciphertext of text,
// bound to the mail's envelope.
func (o *Outbox) seal(m ports.AuthMail, text []byte) []byte {
	aead := o.aeads[o.current]
	out := make([]byte, 0, 2+len(o.current)+aead.NonceSize()+len(text)+aead.Overhead())
	out = append(out, sealVersion, byte(len(o.current)))
	out = append(out, o.current...)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce) // never fails since Go 1.24
	out = append(out, nonce...)
	return aead.Seal(out, nonce, text, additionalData(m))
}

// additionalData binds a sealed body to the row it was sealed for: a
// body moved to another row, or a row whose recipient was changed (to
// redirect a sign-in link), no longer opens.
func additionalData(m ports.AuthMail) []byte {
	var b strings.Builder
	for _, f := range []string{hkdfInfo, m.ID.String(), string(m.Kind), m.To, m.Subject} {
		fmt.Fprintf(&b, "%d:%s;", len(f), f)
	}
	return []byte(b.String())
}
