package stripe

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	stripego "github.com/stripe/stripe-go/v85"

	"github.com/stockadehq/stockade/ports"
)

func TestMapErr(t *testing.T) {
	tests := []struct {
		give *stripego.Error
		want error
	}{
		{&stripego.Error{HTTPStatusCode: 404, Type: stripego.ErrorTypeInvalidRequest, Code: stripego.ErrorCodeResourceMissing}, ports.ErrNotFound},
		{&stripego.Error{HTTPStatusCode: 400, Type: stripego.ErrorTypeInvalidRequest, Code: stripego.ErrorCodeResourceMissing}, ports.ErrNotFound},
		{&stripego.Error{HTTPStatusCode: 400, Type: stripego.ErrorTypeInvalidRequest, Param: "price"}, ports.ErrInvalid},
		{&stripego.Error{HTTPStatusCode: 402, Type: stripego.ErrorTypeCard}, ports.ErrInvalid},
		{&stripego.Error{HTTPStatusCode: 401, Type: stripego.ErrorTypeInvalidRequest, Msg: "Invalid API Key provided: sk_test_****abcd"}, ports.ErrUnavailable},
		{&stripego.Error{HTTPStatusCode: 403}, ports.ErrUnavailable},
		{&stripego.Error{HTTPStatusCode: 409, Type: stripego.ErrorTypeIdempotency}, ports.ErrConflict},
		{&stripego.Error{HTTPStatusCode: 429, Type: stripego.ErrorTypeInvalidRequest}, ports.ErrRateLimited},
		{&stripego.Error{HTTPStatusCode: 500, Type: stripego.ErrorTypeAPI}, ports.ErrUnavailable},
	}
	for _, tt := range tests {
		got := mapErr("op", tt.give)
		assert.ErrorIs(t, got, tt.want, "%d %s", tt.give.HTTPStatusCode, tt.give.Type)
		var se *stripego.Error
		assert.False(t, errors.As(got, &se), "the SDK error does not cross the port")
	}
	// A card error carries the payment method it concerns; none of it
	// may reach the message.
	cardErr := &stripego.Error{HTTPStatusCode: 402, Type: stripego.ErrorTypeCard, Msg: "Your card 4242 4242 4242 4242 was declined",
		PaymentMethod: &stripego.PaymentMethod{ID: "pm_1", Card: &stripego.PaymentMethodCard{Last4: "4242", Fingerprint: "fp_secret"}}}
	msg := mapErr("op", cardErr).Error()
	for _, leak := range []string{"4242", "fp_secret", "declined", "pm_1"} {
		assert.NotContains(t, msg, leak)
	}
	assert.Nil(t, mapErr("op", nil))
	assert.ErrorIs(t, mapErr("op", fmt.Errorf("dial tcp: refused")), ports.ErrUnavailable)
}
