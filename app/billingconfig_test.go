package app_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

const (
	testStripeKey    = "sk_test_ConfigSecretKey42"
	testStripeSecret = "whsec_config_secret_0123456789"
)

func stripeOn() app.Config {
	c := app.Default()
	c.Stripe = app.StripeConfig{APIKey: testStripeKey, WebhookSecrets: testStripeSecret, Plans: "pro=price_Pro"}
	return c
}

func TestStripeConfigFromEnvironment(t *testing.T) {
	cfg, err := app.LoadConfig([]string{
		"STOCKADE_STRIPE_API_KEY=" + testStripeKey,
		"STOCKADE_STRIPE_WEBHOOK_SECRETS=" + testStripeSecret + ", whsec_second_0123456789abcdef",
		"STOCKADE_STRIPE_CONNECT_WEBHOOK_SECRETS=whsec_connect_0123456789abcdef",
		"STOCKADE_STRIPE_WEBHOOK_TOLERANCE=2m",
		"STOCKADE_STRIPE_PLANS=starter=price_1, pro=price_2",
		"STOCKADE_STRIPE_RETENTION_DAYS=90",
		"STOCKADE_STRIPE_CONNECT_COUNTRY=US",
		"STOCKADE_STRIPE_API_URL=http://127.0.0.1:12111",
	}, "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, 2*time.Minute, cfg.Stripe.WebhookTolerance)
	assert.Equal(t, 90*24*time.Hour, cfg.Stripe.Retention())
	assert.Equal(t, 60*24*time.Hour, app.Default().Stripe.Retention(), "60 days by default")
	shown := fmt.Sprintf("%v %+v %s", cfg, cfg, cfg.Stripe)
	for _, secret := range []string{testStripeKey, testStripeSecret, "whsec_second", "whsec_connect"} {
		assert.NotContains(t, shown, secret, "printing the config shows no secret")
	}
	assert.Contains(t, shown, "starter=price_1")
}

func TestStripeConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    func(*app.StripeConfig)
		setting string
		want    string
	}{
		{"secrets without key", func(s *app.StripeConfig) { s.APIKey = "" }, "STOCKADE_STRIPE_API_KEY", "must be set"},
		{"publishable key", func(s *app.StripeConfig) { s.APIKey = "pk_live_" + testStripeKey[8:] }, "STOCKADE_STRIPE_API_KEY", "publishable"},
		{"no webhook secret", func(s *app.StripeConfig) { s.WebhookSecrets = "" }, "STOCKADE_STRIPE_WEBHOOK_SECRETS", "must be set"},
		{"not a signing secret", func(s *app.StripeConfig) { s.WebhookSecrets += ",sk_live_notasecret0123456789" }, "STOCKADE_STRIPE_WEBHOOK_SECRETS", "secret 2"},
		{"connect secret", func(s *app.StripeConfig) { s.ConnectWebhookSecrets = "whsec_short" }, "STOCKADE_STRIPE_CONNECT_WEBHOOK_SECRETS", "secret 1"},
		{"tolerance", func(s *app.StripeConfig) { s.WebhookTolerance = -time.Second }, "STOCKADE_STRIPE_WEBHOOK_TOLERANCE", "negative"},
		{"retention", func(s *app.StripeConfig) { s.RetentionDays = -1 }, "STOCKADE_STRIPE_RETENTION_DAYS", "negative"},
		{"plan shape", func(s *app.StripeConfig) { s.Plans = "pro:price_1" }, "STOCKADE_STRIPE_PLANS", "entry 1"},
		{"plan price", func(s *app.StripeConfig) { s.Plans = "pro=prod_1" }, "STOCKADE_STRIPE_PLANS", "entry 1"},
		{"plan twice", func(s *app.StripeConfig) { s.Plans = "pro=price_1,pro=price_2" }, "STOCKADE_STRIPE_PLANS", "twice"},
		{"same price", func(s *app.StripeConfig) { s.Plans = "a=price_1,b=price_1" }, "STOCKADE_STRIPE_PLANS", "same price"},
		{"country", func(s *app.StripeConfig) { s.ConnectCountry = "usa" }, "STOCKADE_STRIPE_CONNECT_COUNTRY", "two-letter"},
		{"api url", func(s *app.StripeConfig) { s.APIURL = "ftp://x" }, "STOCKADE_STRIPE_API_URL", "http(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := stripeOn()
			tt.give(&cfg.Stripe)
			err := cfg.Validate()
			require.Error(t, err)
			var se *app.SettingError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, tt.setting, se.Setting)
			assert.Contains(t, err.Error(), tt.want)
			assert.ErrorIs(t, err, ports.ErrInvalid)
			assert.NotContains(t, err.Error(), testStripeKey[8:], "no key in the message")
			assert.NotContains(t, err.Error(), "notasecret")
			assert.False(t, strings.Contains(err.Error(), testStripeSecret))
		})
	}
	require.NoError(t, stripeOn().Validate())
}

func TestNewBillingIsOffWithoutAKey(t *testing.T) {
	svc, err := app.NewBilling(app.Default(), app.BillingParts{})
	require.NoError(t, err)
	assert.Nil(t, svc)
}
