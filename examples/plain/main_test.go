package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the example as CI does and checks what it claims: the
// member and event are visible in their shop and nowhere else.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	assert.Contains(t, out.String(), "bobs-plumbing: 1 member(s), 1 audit event(s)\n")
	assert.Contains(t, out.String(), "alices-hvac: 0 member(s), 0 audit event(s)\n")
}
