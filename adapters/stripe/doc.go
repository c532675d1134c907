// Package stripe is the payment provider adapter on Stripe's official Go
// SDK (github.com/stripe/stripe-go): the ports.Billing API client
// (customers, hosted Checkout, the billing portal, SetupIntents, Connect
// accounts and onboarding links, subscription and account reads) and
// ports.BillingWebhooks (signature and timestamp checks with the SDK's
// webhook package against every configured secret, then decoding of the
// events the core applies).
//
// Card data never passes through it (BIL-1): cards are entered on
// Stripe's hosted pages or by Stripe's own script with a SetupIntent's
// client secret. Of a card it reads only brand and last four digits. The
// API key and webhook secrets are never logged, never part of an error,
// and not shown by fmt's %v of a Client or Webhooks. The SDK's own logger
// is silenced, and errors from the SDK are reduced to their status, type
// and code before they cross the port (an SDK error's text may quote the
// objects it carries).
package stripe
