package messaging_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		give, cc, want string
	}{
		{"+1 (555) 123-4567", "", "+15551234567"},
		{"+15551234567", "1", "+15551234567"},
		{"001 555 123 4567", "", "+15551234567"},
		{"(555) 123-4567", "1", "+15551234567"},
		{"1-555-123-4567", "1", "+15551234567"},
		{"555.123.4567", "1", "+15551234567"},
		{"07700 900123", "44", "+447700900123"},
		{"+44 7700 900123", "1", "+447700900123"},
		{"\u00a0+49 30 1234567 ", "", "+49301234567"},
	}
	for _, tt := range tests {
		got, err := messaging.NormalizePhone(tt.give, tt.cc)
		require.NoError(t, err, tt.give)
		assert.Equal(t, tt.want, got, tt.give)
	}
	for _, bad := range []struct{ give, cc string }{
		{"5551234567", ""},        // national without a default country
		{"+1 555 CALL NOW", ""},   // letters
		{"+0 555 123 4567", ""},   // no country starts with 0
		{"+1234", ""},             // too short
		{"+1234567890123456", ""}, // too long
		{"+1 555 123 4567 ext 9", ""},
		{"1+5551234567", "1"}, // '+' inside
		{"", "1"},
	} {
		_, err := messaging.NormalizePhone(bad.give, bad.cc)
		require.ErrorIs(t, err, ports.ErrInvalid, "%q", bad.give)
	}
}
