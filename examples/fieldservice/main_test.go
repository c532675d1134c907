package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the example as CI does and checks what it claims: the
// link shows its quote on its shop's host only, and the quote and its
// events are Bob's alone.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	assert.Contains(t, out.String(), "link shows \"Replace water heater\" for 189900 cents\n")
	assert.Contains(t, out.String(), "the link on alices-hvac's host: ")
	// customer.created, quote.created, capability.created.
	assert.Contains(t, out.String(), "bobs-plumbing: 1 quote(s), 3 audit event(s)\n")
	assert.Contains(t, out.String(), "alices-hvac: 0 quote(s), 0 audit event(s)\n")
}
