package sqlite_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports/porttest"
)

// TestBillingColumnsAreTheAllowList reads the billing table's columns from
// the schema and compares them with BIL-1's allow-list
// (porttest.BillingColumns); the shop directory's billing columns with
// theirs; and no column of any table is named for card or bank data.
func TestBillingColumnsAreTheAllowList(t *testing.T) {
	db := fresh(t).DB()
	columns := func(table string) []string {
		var cols []string
		require.NoError(t, db.Select(&cols, `SELECT name FROM pragma_table_info(?) ORDER BY name`, table))
		return cols
	}
	want := slices.Clone(porttest.BillingColumns)
	slices.Sort(want)
	assert.Equal(t, want, columns("billing_accounts"))

	var dir []string
	for _, c := range columns("shops") {
		if slices.Contains(porttest.BillingDirectoryColumns, c) {
			dir = append(dir, c)
		}
	}
	wantDir := slices.Clone(porttest.BillingDirectoryColumns)
	slices.Sort(wantDir)
	assert.Equal(t, wantDir, dir)

	var tables []string
	require.NoError(t, db.Select(&tables, `SELECT name FROM sqlite_schema WHERE type = 'table'`))
	cardish := regexp.MustCompile(`(?i)(card_?number|(^|_)pan($|_)|cvc|cvv|exp_(month|year)|expiry|iban|account_number|routing_number)`)
	for _, table := range tables {
		for _, c := range columns(table) {
			assert.False(t, cardish.MatchString(c), "%s.%s is named for card or bank data", table, c)
		}
	}
}

// TestBillingChecksRefuseCardNumbers: the schema's CHECKs hold even
// against raw SQL, so not even a bug in the adapter can park a card
// number in the billing row.
func TestBillingChecksRefuseCardNumbers(t *testing.T) {
	db := fresh(t).DB()
	db.MustExec(`INSERT INTO orgs (id, name, created_at) VALUES ('o', 'O', 0)`)
	db.MustExec(`INSERT INTO shops (id, org_id, slug, name, status, created_at) VALUES ('s', 'o', 'shop', 'S', 'active', 0)`)
	db.MustExec(`INSERT INTO billing_accounts (shop_id, customer_id, created_at, updated_at) VALUES ('s', 'cus_1', 0, 0)`)
	for _, stmt := range []string{
		`UPDATE billing_accounts SET card_brand = 'visa', card_last4 = '4242424242424242'`,
		`UPDATE billing_accounts SET card_brand = 'visa 4242424242424242', card_last4 = '4242'`,
		`UPDATE billing_accounts SET customer_id = '4242424242424242'`,
		`UPDATE billing_accounts SET price_id = '4242424242424242'`,
		`UPDATE shops SET stripe_customer_id = '4242424242424242'`,
	} {
		_, err := db.Exec(stmt)
		assert.Error(t, err, stmt)
	}
}
