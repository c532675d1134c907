package postgres

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Operators implements ports.GlobalTx: the shared operator repository
// (internal/sqlstore), with Credentials read through the definer function
// (the application role cannot read operators.password_hash). It wins over
// the Operators promoted from sqlstore.Global.
func (t *globalTx) Operators() ports.OperatorRepo { return operators{t.Global.Operators(), t} }

// operators is the shared operator repository of one globalTx but for
// Credentials.
type operators struct {
	ports.OperatorRepo
	t *globalTx
}

// operatorCredentialsSQL is the one statement the definer function
// stockade_operator_credentials answers (migration 00018: the application
// role cannot read operators.password_hash); the function compares the
// client's statement text with it, byte for byte.
const operatorCredentialsSQL = `SELECT * FROM stockade_operator_credentials($1)`

// Credentials reads one operator and the password hash, by e-mail.
func (r operators) Credentials(ctx context.Context, email string) (ports.Operator, string, error) {
	return r.t.OperatorCredentials(ctx, operatorCredentialsSQL, email)
}
