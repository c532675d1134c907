package porttest

import "testing"

// Placeholders: the invitation, org-member, this-shop and last-owner
// groups are being written (issue 5).

func testInvitations(t *testing.T, newStore StoreHarness)           {}
func testOrgMembers(t *testing.T, newStore StoreHarness)            {}
func testThisShop(t *testing.T, newStore StoreHarness)              {}
func testLastOwner(t *testing.T, newStore StoreHarness)             {}
func testTenancyTenantBoundary(t *testing.T, newStore StoreHarness) {}
