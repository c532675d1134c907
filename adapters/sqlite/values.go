package sqlite

import "github.com/stockadehq/stockade/ports"

// Helpers of the repositories still written here rather than in
// internal/sqlstore (which has its own copies); removed with their last
// user (issue 17).

// cloneBytes copies b so a caller's later change to its slice cannot
// reach what was stored or returned.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// optionalUser stores the zero user as NULL.
func optionalUser(id ports.UserID) *ports.UserID {
	if id.IsZero() {
		return nil
	}
	return &id
}
