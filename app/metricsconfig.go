package app

import (
	"net"
	"strconv"
)

// DefaultMetricsListen is where the metrics listener binds by default:
// loopback only, on the port OpenTelemetry's Prometheus exporter uses.
const DefaultMetricsListen = "127.0.0.1:9464"

// MetricsConfig turns on the Prometheus metrics endpoint (see
// MetricsModule). The metrics are served at GET /metrics on a listener of
// their own, never on the API's address: the API is public, while the
// metrics (route names, queue depths, error rates) are for the operator.
// The default binds loopback only; to scrape from another host, bind an
// address only the scraper can reach.
type MetricsConfig struct {
	// Enabled serves the metrics. STOCKADE_METRICS_ENABLED, default
	// false (no listener, nothing counted).
	Enabled bool `koanf:"enabled"`
	// Listen is the host:port the metrics listener binds when Enabled;
	// port 0 picks a free port. STOCKADE_METRICS_LISTEN, default ""
	// meaning DefaultMetricsListen ("127.0.0.1:9464").
	Listen string `koanf:"listen"`
}

// ListenAddr returns Listen, or DefaultMetricsListen when it is empty.
func (c MetricsConfig) ListenAddr() string {
	if c.Listen == "" {
		return DefaultMetricsListen
	}
	return c.Listen
}

// validate checks the listen address when the metrics are enabled: a
// host:port that is not the API's own address.
func (c MetricsConfig) validate(httpAddr string) []error {
	const setting = "STOCKADE_METRICS_LISTEN"
	if !c.Enabled {
		return nil
	}
	addr := c.ListenAddr()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []error{problem(setting, "want host:port such as 127.0.0.1:9464, got %q", addr)}
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return []error{problem(setting, "port must be a number between 0 and 65535, got %q", port)}
	}
	if port != "0" && addr == httpAddr {
		return []error{problem(setting, "must differ from STOCKADE_HTTP_ADDR (%s): the metrics have a listener of their own", httpAddr)}
	}
	return nil
}
