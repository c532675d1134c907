package passwordpolicy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth/passwordpolicy"
	"github.com/stockadehq/stockade/ports"
)

func TestNewDefaults(t *testing.T) {
	c, err := passwordpolicy.New(passwordpolicy.Policy{})
	require.NoError(t, err)
	assert.Equal(t, passwordpolicy.Policy{MinLength: 8, MaxLength: 128}, c.Policy())
}

func TestNewRefusesPoliciesOutOfBounds(t *testing.T) {
	tests := []struct {
		name string
		give passwordpolicy.Policy
	}{
		{"min below 8", passwordpolicy.Policy{MinLength: 7}},
		{"negative min", passwordpolicy.Policy{MinLength: -1}},
		{"max below 64", passwordpolicy.Policy{MaxLength: 63}},
		{"max above 256", passwordpolicy.Policy{MaxLength: 257}},
		{"min above max", passwordpolicy.Policy{MinLength: 100, MaxLength: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := passwordpolicy.New(tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		policy     passwordpolicy.Policy
		give       string
		email      string
		wantReason string // "" means accepted
	}{
		{"8 characters", passwordpolicy.Policy{}, "xk4-pq9z", "", ""},
		{"7 characters", passwordpolicy.Policy{}, "xk4-pq9", "", "must be at least 8 characters"},
		{"empty", passwordpolicy.Policy{}, "", "", "must be at least 8 characters"},
		{"no composition rules: all lower-case letters", passwordpolicy.Policy{}, "lantern quietly orbits", "", ""},
		{"spaces count and are allowed", passwordpolicy.Policy{}, "a b c d e", "", ""},
		{"8 code points of multi-byte text", passwordpolicy.Policy{}, "пароль数字", "", ""},
		{"7 code points of 21 bytes", passwordpolicy.Policy{}, "漢字漢字漢字漢", "", "must be at least 8 characters"},
		{"emoji count one each", passwordpolicy.Policy{}, "🔑🔑🔑🔑🔑🔑🔑🔑", "", ""},
		{"128 characters", passwordpolicy.Policy{}, strings.Repeat("ab", 64), "", ""},
		{"129 characters", passwordpolicy.Policy{}, strings.Repeat("ab", 64) + "c", "", "must be at most 128 characters"},
		{"256 four-byte characters under max 256", passwordpolicy.Policy{MaxLength: 256}, strings.Repeat("🔑", 256), "", ""},
		{"raised minimum", passwordpolicy.Policy{MinLength: 15}, "xk4-pq9z-rt6w", "", "must be at least 15 characters"},
		{"common", passwordpolicy.Policy{}, "password", "", "is too common; choose one that is harder to guess"},
		{"common in another case", passwordpolicy.Policy{}, "PassWord", "", "is too common; choose one that is harder to guess"},
		{"common digits", passwordpolicy.Policy{}, "12345678", "", "is too common; choose one that is harder to guess"},
		{"common, further down the list", passwordpolicy.Policy{}, "baseball", "", "is too common; choose one that is harder to guess"},
		{"invalid UTF-8", passwordpolicy.Policy{}, "abcdefgh\xff", "", "must be valid UTF-8 text"},
		{"equals e-mail", passwordpolicy.Policy{}, "Jane.Doe@Example.com", "jane.doe@example.com", "must not be your e-mail address"},
		{"equals local part", passwordpolicy.Policy{}, "janedoe1987", " JaneDoe1987@example.com ", "must not be your e-mail address"},
		{"contains local part but longer", passwordpolicy.Policy{}, "janedoe1987 rides bikes", "janedoe1987@example.com", ""},
		{"no e-mail given", passwordpolicy.Policy{}, "janedoe1987", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := passwordpolicy.New(tt.policy)
			require.NoError(t, err)

			err = c.Check(tt.give, tt.email)
			if tt.wantReason == "" {
				assert.NoError(t, err)
				return
			}
			var inv *ports.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "password", inv.Field)
			assert.Equal(t, tt.wantReason, inv.Reason)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}
