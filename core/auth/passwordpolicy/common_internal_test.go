package passwordpolicy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommonListIsLoaded(t *testing.T) {
	c, err := New(Policy{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(c.common), 10000)
	for _, want := range []string{"password", "123456", "qwerty", "iloveyou"} {
		assert.Contains(t, c.common, want)
	}
}

func TestCommonListIsLowerCaseAndClean(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(commonPasswords, "\n"), "\n")
	assert.Len(t, lines, 10000)
	for i, line := range lines {
		require.NotEmpty(t, line, "line %d", i+1)
		require.Equal(t, strings.ToLower(line), line, "line %d", i+1)
		require.Equal(t, strings.TrimSpace(line), line, "line %d", i+1)
	}
}
