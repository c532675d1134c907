package testinfra

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is how often readiness probes are retried.
const pollInterval = 100 * time.Millisecond

// waitReady calls probe every pollInterval until it returns nil, p exits, or
// timeout passes. Each probe gets a context bounded by the overall deadline.
// The error names the last probe failure.
func waitReady(p *process, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before becoming ready (%v); last probe: %w", p.name, p.waitErr, err)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", p.name, timeout, err)
		case <-ticker.C:
		}
	}
}
