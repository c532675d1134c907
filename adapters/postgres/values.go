package postgres

import "github.com/stockadehq/stockade/ports"

// Helpers of the repositories still written here rather than in
// internal/sqlstore (which has its own copies); removed with their last
// user (issue 17).

// optionalUser stores the zero user as NULL.
func optionalUser(id ports.UserID) *ports.UserID {
	if id.IsZero() {
		return nil
	}
	return &id
}
