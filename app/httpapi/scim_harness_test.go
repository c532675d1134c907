package httpapi_test

import (
	"context"
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/ports"
)

// scimFixture is one fresh set of the org's SCIM rows: a token (and its
// secret, the bearer), a user, a group and a mapping of the group.
type scimFixture struct {
	token, bearer, user, group, mapping string
}

// scimTargets creates a fresh scimFixture in alpha's org (n keeps names
// apart), through the CLI's path: a system scope in alpha.
func (w *matrixWorld) scimTargets(a *matrixAPI, n int64) scimFixture {
	t := w.t
	ctx := context.Background()
	inAlpha := access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test")
	tok, secret, err := a.scim.CreateToken(inAlpha)
	require.NoError(t, err)
	w.canary.Secret("a SCIM token", secret)
	c := scim.Caller{Org: w.alpha.OrgID, Token: tok.ID}
	u, err := a.scim.CreateUser(ctx, c, scim.UserInput{UserName: fmt.Sprintf("scim-%d@alpha.test", n), Active: true})
	require.NoError(t, err)
	g, err := a.scim.CreateGroup(ctx, c, scim.GroupInput{DisplayName: fmt.Sprintf("Group %d", n)})
	require.NoError(t, err)
	m, err := a.scim.CreateMapping(inAlpha, scim.MappingInput{Group: g.ID.String(), Shop: "charlie", Role: ports.RoleViewer})
	require.NoError(t, err)
	return scimFixture{token: tok.ID.String(), bearer: secret, user: u.ID.String(), group: g.ID.String(), mapping: m.ID.String()}
}
