package postgres

import "github.com/stockadehq/stockade/internal/sqlstore"

// OutsideAccessSQL is the predicate this store writes for
// ports.AuditFilter.OutsideAccess, for TestOutsideAccessIndexMatches.
var OutsideAccessSQL = sqlstore.OutsideAccessSQL(&dialect{})
