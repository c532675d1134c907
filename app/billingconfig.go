package app

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// StripeConfig configures billing with Stripe (BIL-1…BIL-4). Billing is
// off while APIKey is empty: no billing routes, no webhooks. None of these
// values is ever logged or part of an error message; the config's String
// hides the key and the secrets.
type StripeConfig struct {
	// APIKey is the platform's secret ("sk_…") or restricted ("rk_…")
	// key. STOCKADE_STRIPE_API_KEY, default "" (billing off).
	APIKey string `koanf:"api_key"`
	// WebhookSecrets are the signing secrets ("whsec_…") of the platform
	// endpoint POST /webhooks/stripe, comma-separated: every one listed is
	// accepted, so a secret is rolled by adding the new one first and
	// removing the old one later. Required with APIKey.
	// STOCKADE_STRIPE_WEBHOOK_SECRETS.
	WebhookSecrets string `koanf:"webhook_secrets"`
	// ConnectWebhookSecrets are those of the Connect endpoint
	// POST /webhooks/stripe/connect; "" leaves it refusing every call.
	// STOCKADE_STRIPE_CONNECT_WEBHOOK_SECRETS.
	ConnectWebhookSecrets string `koanf:"connect_webhook_secrets"`
	// WebhookTolerance bounds the age of a signature's timestamp.
	// STOCKADE_STRIPE_WEBHOOK_TOLERANCE, default 0 meaning 5m.
	WebhookTolerance time.Duration `koanf:"webhook_tolerance"`
	// Plans are the plans offered by Checkout: "name=price_…" pairs,
	// comma-separated, e.g. "starter=price_123,pro=price_456".
	// STOCKADE_STRIPE_PLANS.
	Plans string `koanf:"plans"`
	// RetentionDays is how long a cancelled shop's data stays before the
	// lifecycle may delete it (LIFE-2). STOCKADE_STRIPE_RETENTION_DAYS,
	// default 0 meaning 60.
	RetentionDays int `koanf:"retention_days"`
	// ConnectCountry is the country (ISO 3166-1 alpha-2) of new Connect
	// accounts; "" lets Stripe's onboarding ask.
	// STOCKADE_STRIPE_CONNECT_COUNTRY.
	ConnectCountry string `koanf:"connect_country"`
	// APIURL replaces https://api.stripe.com, e.g. with a stripe-mock for
	// development. STOCKADE_STRIPE_API_URL, default "".
	APIURL string `koanf:"api_url"`
}

// String shows the settings with the key and the secrets replaced.
func (s StripeConfig) String() string {
	hide := func(v string) string {
		if v == "" {
			return `""`
		}
		return redacted
	}
	return "{api_key:" + hide(s.APIKey) + " webhook_secrets:" + hide(s.WebhookSecrets) +
		" connect_webhook_secrets:" + hide(s.ConnectWebhookSecrets) + " webhook_tolerance:" + s.WebhookTolerance.String() +
		" plans:" + s.Plans + " retention_days:" + strconv.Itoa(s.RetentionDays) + " connect_country:" + s.ConnectCountry +
		" api_url:" + RedactURL(s.APIURL) + "}"
}

// Enabled reports whether billing is configured.
func (s StripeConfig) Enabled() bool { return s.APIKey != "" }

// Retention is RetentionDays as a duration (60 days when unset).
func (s StripeConfig) Retention() time.Duration {
	if s.RetentionDays <= 0 {
		return 60 * 24 * time.Hour
	}
	return time.Duration(s.RetentionDays) * 24 * time.Hour
}

// splitSecrets splits a comma-separated secret list, dropping blanks.
func splitSecrets(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parsePlans parses "name=price,…". Errors name the pair by position,
// never quoting the value.
func parsePlans(v string) (map[string]string, error) {
	out := map[string]string{}
	for i, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, price, ok := strings.Cut(pair, "=")
		name, price = strings.TrimSpace(name), strings.TrimSpace(price)
		if !ok || name == "" || ports.ValidatePriceID(price) != nil {
			return nil, problem("STOCKADE_STRIPE_PLANS", "entry %d: want name=price_… (e.g. pro=price_123)", i+1)
		}
		if _, dup := out[name]; dup {
			return nil, problem("STOCKADE_STRIPE_PLANS", "plan %q is listed twice", name)
		}
		out[name] = price
	}
	return out, nil
}

// validate returns one *SettingError per problem with the Stripe
// settings; no message holds a key or secret.
func (s StripeConfig) validate() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !s.Enabled() {
		if s.WebhookSecrets != "" || s.ConnectWebhookSecrets != "" || s.Plans != "" {
			add(problem("STOCKADE_STRIPE_API_KEY", "must be set when Stripe webhook secrets or plans are"))
		}
		return errs
	}
	if !strings.HasPrefix(s.APIKey, "sk_") && !strings.HasPrefix(s.APIKey, "rk_") {
		add(problem("STOCKADE_STRIPE_API_KEY", "must be a secret (sk_…) or restricted (rk_…) key; a publishable key (pk_…) cannot be used"))
	}
	if len(splitSecrets(s.WebhookSecrets)) == 0 {
		add(problem("STOCKADE_STRIPE_WEBHOOK_SECRETS", "must be set with STOCKADE_STRIPE_API_KEY: without verified webhooks the billing state never changes"))
	}
	for _, set := range []struct{ env, v string }{
		{"STOCKADE_STRIPE_WEBHOOK_SECRETS", s.WebhookSecrets},
		{"STOCKADE_STRIPE_CONNECT_WEBHOOK_SECRETS", s.ConnectWebhookSecrets},
	} {
		for i, sec := range splitSecrets(set.v) {
			if !strings.HasPrefix(sec, "whsec_") || len(sec) < len("whsec_")+16 {
				add(problem(set.env, "secret %d is not a Stripe signing secret (whsec_…)", i+1))
			}
		}
	}
	if s.WebhookTolerance < 0 {
		add(problem("STOCKADE_STRIPE_WEBHOOK_TOLERANCE", "must not be negative, got %s", s.WebhookTolerance))
	}
	if s.RetentionDays < 0 {
		add(problem("STOCKADE_STRIPE_RETENTION_DAYS", "must not be negative, got %d", s.RetentionDays))
	}
	plans, err := parsePlans(s.Plans)
	add(err)
	seen := map[string]string{}
	names := make([]string, 0, len(plans))
	for n := range plans {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if other, dup := seen[plans[n]]; dup {
			add(problem("STOCKADE_STRIPE_PLANS", "plans %q and %q name the same price", other, n))
		}
		seen[plans[n]] = n
	}
	if c := s.ConnectCountry; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		add(problem("STOCKADE_STRIPE_CONNECT_COUNTRY", "must be a two-letter ISO 3166-1 code such as US"))
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(problem("STOCKADE_STRIPE_API_URL", "must be an absolute http(s) URL"))
		}
	}
	return errs
}
