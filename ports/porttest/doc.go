// Package porttest holds the conformance suites of Stockade's ports. An
// adapter's test file calls the suite for each port it implements with a
// harness that builds a fresh instance; every adapter, ours or a user's,
// must pass them unchanged:
//
//	func TestStore(t *testing.T) {
//		porttest.TestStore(t, func(t *testing.T) ports.Store { return openFresh(t) })
//	}
//
// The suites attack as well as exercise: they try to reach one shop's rows
// from another shop's unit of work, write inside read-only units of work,
// nest units of work, race appends on one audit chain, race consumers of
// one magic link and hits on one rate-limit counter, and present one
// shop's sessions and magic links to another.
package porttest
