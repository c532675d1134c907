package ports_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// goldenEvent is the worked example of the audit chain encoding: a third
// party re-implementing verification can check its code against it.
func goldenEvent() ports.AuditEvent {
	return ports.AuditEvent{
		ShopID:       ports.ShopID{UUID: uuid.MustParse("0190f1c2-0000-7000-8000-000000000001")},
		Seq:          2,
		ID:           ports.EventID{UUID: uuid.MustParse("0190f1c2-0000-7000-8000-0000000000aa")},
		Time:         time.Date(2026, 11, 23, 9, 30, 0, 123456000, time.UTC),
		Actor:        "user:1",
		Action:       "membership.role_changed",
		Target:       "user:2",
		Outcome:      ports.OutcomeSuccess,
		Before:       json.RawMessage(`{"role":"tech"}`),
		IP:           "203.0.113.9",
		PrevHash:     sha256.Sum256([]byte("previous")),
		Impersonator: "",
	}
}

func TestAuditEncodingGolden(t *testing.T) {
	e := goldenEvent()
	want := "" +
		"73746f636b6164652d61756469742d7631" + // "stockade-audit-v1"
		"0190f1c2000070008000000000000001" + // shop ID
		"0000000000000002" + // seq
		"0190f1c20000700080000000000000aa" + // event ID
		"000660ee3ce0f840" + // time: Unix µs (1795426200123456)
		"00000006" + hex.EncodeToString([]byte("user:1")) + // actor
		"00000000" + // impersonator
		"00000017" + hex.EncodeToString([]byte("membership.role_changed")) + // action
		"00000006" + hex.EncodeToString([]byte("user:2")) + // target
		"00000007" + hex.EncodeToString([]byte("success")) + // outcome
		"01" + "0000000f" + hex.EncodeToString([]byte(`{"role":"tech"}`)) + // before: present
		"00" + // after: absent
		"0000000b" + hex.EncodeToString([]byte("203.0.113.9")) + // ip
		"00000000" + // user agent
		"00000000" + // request id
		hex.EncodeToString(e.PrevHash[:])
	got := ports.AppendAuditEncoding(nil, e)
	require.Equal(t, want, hex.EncodeToString(got))
	sum := sha256.Sum256(got)
	assert.Equal(t, ports.AuditHash(sum), e.ChainHash())
	assert.Equal(t, "957ffcbbf94604127270d0bf53208e8b675d98cf3e06c81726b65697124a54a5", e.ChainHash().String())

	head, body := ports.SplitAuditEncoding(e)
	joined := append(append(append(head, got[len(head):len(head)+8]...), body...), e.PrevHash[:]...)
	assert.Equal(t, got, joined, "head || seq || body || prev hash")
	var h ports.AuditHasher
	assert.Equal(t, e.ChainHash(), h.Sum(e))
	e.Hash = ports.AuditHash{1}
	assert.Equal(t, ports.AuditHash(sum), h.Sum(e), "the stored hash is not part of the encoding")
}

// Every field counts, and bytes cannot move between neighbouring fields.
func TestAuditEncodingIsUnambiguous(t *testing.T) {
	base := goldenEvent()
	mods := map[string]func(*ports.AuditEvent){
		"shop":              func(e *ports.AuditEvent) { e.ShopID = ports.NewShopID() },
		"seq":               func(e *ports.AuditEvent) { e.Seq++ },
		"id":                func(e *ports.AuditEvent) { e.ID = ports.NewEventID() },
		"time":              func(e *ports.AuditEvent) { e.Time = e.Time.Add(time.Microsecond) },
		"actor":             func(e *ports.AuditEvent) { e.Actor += "x" },
		"impersonator":      func(e *ports.AuditEvent) { e.Impersonator = "operator:1" },
		"action":            func(e *ports.AuditEvent) { e.Action += "x" },
		"target":            func(e *ports.AuditEvent) { e.Target += "x" },
		"outcome":           func(e *ports.AuditEvent) { e.Outcome = ports.OutcomeFailure },
		"before":            func(e *ports.AuditEvent) { e.Before = json.RawMessage(`{"role": "tech"}`) },
		"before nil":        func(e *ports.AuditEvent) { e.Before = nil },
		"after null":        func(e *ports.AuditEvent) { e.After = json.RawMessage(`null`) },
		"ip":                func(e *ports.AuditEvent) { e.IP += "0" },
		"user agent":        func(e *ports.AuditEvent) { e.UserAgent = "x" },
		"request id":        func(e *ports.AuditEvent) { e.RequestID = "x" },
		"prev":              func(e *ports.AuditEvent) { e.PrevHash[0] ^= 1 },
		"actor to imperson": func(e *ports.AuditEvent) { e.Actor, e.Impersonator = "user:", "1" },
		"action to target":  func(e *ports.AuditEvent) { e.Action, e.Target = "membership.role_changeduser:2", "" },
		"ua to request id":  func(e *ports.AuditEvent) { e.UserAgent, e.RequestID = "ab", "" },
	}
	seen := map[ports.AuditHash]string{base.ChainHash(): "base"}
	for name, mod := range mods {
		e := goldenEvent()
		mod(&e)
		h := e.ChainHash()
		if other, dup := seen[h]; dup {
			t.Errorf("%s hashes like %s", name, other)
		}
		seen[h] = name
	}
	mod := goldenEvent()
	mod.UserAgent, mod.RequestID = "", "ab"
	other := goldenEvent()
	other.UserAgent, other.RequestID = "ab", ""
	assert.NotEqual(t, mod.ChainHash(), other.ChainHash())
}

func TestAuditHashBytes(t *testing.T) {
	h, err := ports.AuditHashFromBytes(nil)
	require.NoError(t, err)
	assert.True(t, h.IsZero())
	assert.Nil(t, h.Bytes(), "the zero hash is stored as NULL")
	sum := sha256.Sum256([]byte("x"))
	h, err = ports.AuditHashFromBytes(sum[:])
	require.NoError(t, err)
	assert.Equal(t, sum[:], h.Bytes())
	assert.Equal(t, hex.EncodeToString(sum[:]), h.String())
	_, err = ports.AuditHashFromBytes(sum[:31])
	require.ErrorIs(t, err, ports.ErrInvalid)
}
