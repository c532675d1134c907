package ports

import (
	"context"
	"encoding/json"
)

// TenantRowReader is implemented by a ShopTx that can read every tenant row
// of its shop, whatever the table: Stockade's own and the embedding app's
// (LIFE-1, the shop export). Both SQL stores implement it; callers reach it
// with a type assertion on the ShopTx.
type TenantRowReader interface {
	// TenantTables names every table of the database that holds rows of a
	// shop (every table with a shop_id column, the app's declared tables
	// included), sorted. A declared app table that the database does not
	// have is an error.
	TenantTables(ctx context.Context) ([]string, error)
	// EachTenantRow calls fn once per row of table whose shop_id is the
	// unit of work's shop, as one JSON object of the row's columns as the
	// database stores them (binary columns as hex text). The JSON is valid
	// only during the call. table must be one TenantTables named
	// (ErrInvalid otherwise). An error from fn stops the iteration and is
	// returned. Rows are read as a stream: memory does not grow with the
	// table.
	EachTenantRow(ctx context.Context, table string, fn func(row json.RawMessage) error) error
}
