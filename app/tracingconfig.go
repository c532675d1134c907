package app

import (
	"net/url"
	"strings"
)

// DefaultTracingEndpoint is where the OTLP exporter sends spans by
// default: an OpenTelemetry Collector's OTLP/HTTP receiver on loopback.
const DefaultTracingEndpoint = "http://127.0.0.1:4318"

// TracingConfig turns on OpenTelemetry tracing (see TracingModule): a
// span per HTTP request, named by its route pattern, with a child span per
// unit of work. Off, the tracer provider is OpenTelemetry's no-op one and
// nothing is recorded or sent. Spans never carry a request's path, query,
// headers, cookies, client address or body; see docs/observability.md.
type TracingConfig struct {
	// Enabled records spans and exports them over OTLP/HTTP (protobuf) to
	// Endpoint. STOCKADE_TRACING_ENABLED, default false.
	Enabled bool `koanf:"enabled"`
	// Endpoint is the base URL of the OTLP/HTTP receiver, http:// or
	// https://; spans are posted to its /v1/traces. STOCKADE_TRACING_ENDPOINT,
	// default "" meaning DefaultTracingEndpoint ("http://127.0.0.1:4318").
	Endpoint string `koanf:"endpoint"`
}

// EndpointURL returns Endpoint, or DefaultTracingEndpoint when it is empty.
func (c TracingConfig) EndpointURL() string {
	if c.Endpoint == "" {
		return DefaultTracingEndpoint
	}
	return c.Endpoint
}

// validate checks the endpoint when tracing is enabled: an http or https
// URL with a host and no credentials, query or fragment.
func (c TracingConfig) validate() []error {
	const setting = "STOCKADE_TRACING_ENDPOINT"
	if !c.Enabled {
		return nil
	}
	u, err := url.Parse(c.EndpointURL())
	switch {
	case err != nil:
		return []error{problem(setting, "not a URL")}
	case u.Scheme != "http" && u.Scheme != "https":
		return []error{problem(setting, "want an http:// or https:// URL such as %s, got scheme %q", DefaultTracingEndpoint, u.Scheme)}
	case u.Host == "":
		return []error{problem(setting, "want a URL with a host such as %s", DefaultTracingEndpoint)}
	case u.User != nil:
		return []error{problem(setting, "must not carry credentials")}
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(c.EndpointURL(), "?"):
		return []error{problem(setting, "must not have a query or fragment")}
	}
	return nil
}
