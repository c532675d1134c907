// Package porttest holds the conformance suites of Stockade's ports. An
// adapter's test file calls the suite for each port it implements with a
// harness that builds a fresh instance; every adapter, ours or a user's,
// must pass them unchanged:
//
//	func TestStore(t *testing.T) {
//		porttest.TestStoreSuite(t, porttest.StoreSuite{
//			New:      func(t *testing.T) ports.Store { return openFresh(t) },
//			Features: porttest.Features{AppSQL: true},
//			Parallel: true,
//		})
//	}
//
// The store suite has an entry point per repository (TestMemberships,
// TestAudit, ...), TestTenantBoundary, TestConcurrency and one per
// optional feature (TestAppSQLFeature); TestStoreSuite runs them all and
// TestStore runs all but the features. An adapter declares its optional
// features up front (Features): the suite checks a declared feature works
// and an undeclared one fails with ports.ErrUnsupported, never skipping.
// TestAppTables attacks the embedding app's tenant tables through
// ShopTx.SQL; ExpectFailure proves a suite fails on a deliberately broken
// store.
//
// The suites attack as well as exercise: they try to reach one shop's rows
// from another shop's unit of work, write inside read-only units of work,
// nest units of work, race appends on one audit chain, race consumers of
// one magic link and hits on one rate-limit counter, and present one
// shop's sessions and magic links to another.
package porttest
