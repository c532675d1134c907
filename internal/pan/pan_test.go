package pan_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/internal/pan"
)

func TestFind(t *testing.T) {
	tests := []struct {
		give string
		want []string
	}{
		{give: `{"number":"4242424242424242"}`, want: []string{"4242424242424242"}},
		{give: "card 4242 4242 4242 4242 on file", want: []string{"4242 4242 4242 4242"}},
		{give: "card 4000-0566-5566-5556.", want: []string{"4000-0566-5566-5556"}},
		{give: "amex 378282246310005", want: []string{"378282246310005"}},
		{give: "amex 3782 822463 10005", want: []string{"3782 822463 10005"}},
		{give: "not inside a longer run: 99378282246310005"},
		{give: "a 20-digit run 42424242424242424242"},
		{give: "microseconds 1763912345123456 and 1763912345123"},
		{give: "4242424242424241 fails Luhn"},
		{give: "ts=1763912345 us=1763912345123 id=0193e4b2-7c3e-7aaa-8bbb-0123456789ab"},
		{give: "uuid 01934512-3456-7890-1234-123456789012"},
		{give: "last4 4242, exp 12/34, cvc 123"},
		{give: ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, pan.Find(tt.give), tt.give)
	}
}

func TestLuhn(t *testing.T) {
	for _, ok := range []string{"4242424242424242", "5555555555554444", "378282246310005", "6011111111111117", "0"} {
		assert.True(t, pan.Luhn(ok), ok)
	}
	for _, bad := range []string{"4242424242424241", "1234567812345678", "", "42a2"} {
		assert.False(t, pan.Luhn(bad), bad)
	}
}
