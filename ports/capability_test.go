package ports_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func TestCapabilityActiveAndAllows(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	c := ports.Capability{Actions: []string{"download", "view"}, ExpiresAt: now.Add(time.Second)}
	assert.True(t, c.Active(now))
	assert.False(t, c.Active(now.Add(time.Second)), "a capability expiring at now is no longer active")
	revoked := c
	revoked.RevokedAt = now.Add(-time.Hour)
	assert.False(t, revoked.Active(now), "a revoked capability is not active")

	tests := []struct {
		give string
		want bool
	}{
		{"view", true},
		{"download", true},
		{"pay", false},
		{"", false},
		{"View", false},
		{"view ", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, c.Allows(tt.give), "Allows(%q)", tt.give)
	}
	assert.False(t, ports.Capability{}.Allows(""), "a capability with no actions allows nothing")
}

func TestNormalizeActions(t *testing.T) {
	give := []string{"view", "pay", "view", "accept"}
	assert.Equal(t, []string{"accept", "pay", "view"}, ports.NormalizeActions(give))
	assert.Equal(t, []string{"view", "pay", "view", "accept"}, give, "the input is not changed")
	assert.Empty(t, ports.NormalizeActions(nil))
}

func TestParseCapabilityID(t *testing.T) {
	id := ports.NewCapabilityID()
	got, err := ports.ParseCapabilityID(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, got)
	for _, give := range []string{"", "nope", "00000000-0000-0000-0000-000000000000"} {
		_, err := ports.ParseCapabilityID(give)
		assert.ErrorIs(t, err, ports.ErrInvalid, "%q", give)
	}
}
