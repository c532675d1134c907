package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

func TestWithDeduplication(t *testing.T) {
	resendLike, _ := console.NewSender(nopLogger(), "")
	swapped, _ := console.NewSender(nopLogger(), "")
	senders := &Senders{SMS: resendLike, Email: resendLike, EmailDeduplicates: true}
	tests := []struct {
		name      string
		senders   *Senders
		email     ports.EmailSender
		give      messaging.WorkerConfig
		wantEmail bool
	}{
		{"the provider deduplicates", senders, resendLike, messaging.WorkerConfig{}, true},
		{"a sender swapped in with fx.Decorate is not trusted", senders, swapped, messaging.WorkerConfig{}, false},
		{"no Senders in the graph", nil, resendLike, messaging.WorkerConfig{}, false},
		{"an explicit WorkerConfig keeps its word", nil, swapped, messaging.WorkerConfig{EmailDeduplicates: true}, true},
		{"a provider that does not", &Senders{Email: resendLike}, resendLike, messaging.WorkerConfig{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withDeduplication(tt.give, tt.senders, resendLike, tt.email)
			assert.Equal(t, tt.wantEmail, got.EmailDeduplicates)
			assert.False(t, got.SMSDeduplicates)
		})
	}
}

func nopLogger() *zap.Logger { return zap.NewNop() }
