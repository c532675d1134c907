package auth

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/ports"
)

// TestSSOAAL: only an amr that shows a second factor makes an SSO session
// AAL2.
func TestSSOAAL(t *testing.T) {
	tests := []struct {
		amr  []string
		want int
	}{
		{nil, ports.AAL1},
		{[]string{"pwd"}, ports.AAL1},
		{[]string{"pwd", "pwd"}, ports.AAL1},
		{[]string{"pwd", "kba"}, ports.AAL1},
		{[]string{"otp"}, ports.AAL1},
		{[]string{"mfa"}, ports.AAL2},
		{[]string{"pwd", "otp"}, ports.AAL2},
		{[]string{"hwk", "pin"}, ports.AAL2},
		{[]string{"pwd", "fpt"}, ports.AAL2},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ssoAAL(tt.amr), "amr %v", tt.amr)
	}
}

// TestPendingOfSSO: an AAL2 session without a local factor meets a
// shop's policy; an AAL1 one enrols.
func TestPendingOfSSO(t *testing.T) {
	all := ports.TwoFactorPolicy{AllMembers: true}
	assert.Equal(t, "", pendingOf(ports.AAL2, false, false, all, ports.RoleViewer))
	assert.Equal(t, PendingEnrol, pendingOf(ports.AAL1, false, false, all, ports.RoleViewer))
	assert.Equal(t, PendingStepUp, pendingOf(ports.AAL1, false, true, all, ports.RoleViewer))
}
