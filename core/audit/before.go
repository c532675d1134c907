package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// ErrOutcomeNotRecorded is returned by Before when the action succeeded
// but its outcome event could not be appended: the log holds the attempt
// and nothing after it. Callers decide whether to treat the action as done
// (an HTTP answer already sent) or as failed (a credential not yet handed
// out).
var ErrOutcomeNotRecorded = errors.New("audit: the action ran but its outcome was not recorded")

// Before runs a privileged action audit-first (AUD-3):
//
//  1. it appends attempted to shop's log in its own unit of work, with
//     Outcome ports.OutcomeAttempted, a fresh ID (unless set) and Time
//     from clock; if that append fails, action does not run and Before
//     returns the append's error;
//  2. it runs action, outside any unit of work, with ctx;
//  3. it appends the outcome in another unit of work: attempted's actor,
//     impersonator, action, target and client fields, a fresh ID and time,
//     Outcome ports.OutcomeSuccess or ports.OutcomeFailure, and After
//     {"attempt": "<attempted event ID>"} plus, on failure, "error": the
//     error's class (ErrorClass; never its message, which may hold
//     secrets). A panic in action is recorded as a failure of class
//     "panic" and re-raised.
//
// Before returns action's error. When action succeeded but the outcome
// could not be appended, it returns an error matching
// ErrOutcomeNotRecorded. ctx must not be inside a unit of work (the
// attempted append then fails with ports.ErrNestedUnitOfWork and nothing
// runs). A nil clock is ports.SystemClock.
//
// The events an action appends itself (AUD-2, in its own units of work)
// fall between the attempted event and the outcome in the shop's log.
func Before(ctx context.Context, store ports.Store, clock ports.Clock, shop ports.ShopID, attempted ports.AuditEvent, action func(ctx context.Context) error) error {
	return BeforeEvent(ctx, store, clock, shop, attempted, func(ctx context.Context, _ ports.AuditEvent) error { return action(ctx) })
}

// BeforeEvent is Before for an action that needs the attempted event as
// stored (its Seq and Hash), e.g. an export that covers the log up to and
// including its own attempt.
func BeforeEvent(ctx context.Context, store ports.Store, clock ports.Clock, shop ports.ShopID, attempted ports.AuditEvent, action func(ctx context.Context, attempt ports.AuditEvent) error) (err error) {
	if clock == nil {
		clock = ports.SystemClock{}
	}
	if attempted.ID.IsZero() {
		attempted.ID = ports.NewEventID()
	}
	attempted.Time = clock.Now()
	attempted.Outcome = ports.OutcomeAttempted
	var stored ports.AuditEvent
	if err := store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		stored, err = tx.Audit().Append(ctx, attempted)
		return err
	}); err != nil {
		return fmt.Errorf("%s: audit first: %w", attempted.Action, err)
	}

	ran := false
	defer func() {
		if ran {
			return
		}
		v := recover()
		// The action panicked: record that, then re-raise.
		_ = appendOutcome(context.WithoutCancel(ctx), store, clock, shop, attempted, fmt.Errorf("panic: %v", v), "panic")
		panic(v)
	}()
	actionErr := action(ctx, stored)
	ran = true

	// The outcome is recorded even when the caller's context ended during
	// the action (a client that went away mid-export).
	if oerr := appendOutcome(context.WithoutCancel(ctx), store, clock, shop, attempted, actionErr, ErrorClass(actionErr)); oerr != nil {
		if actionErr != nil {
			return errors.Join(actionErr, fmt.Errorf("%s: record outcome: %w", attempted.Action, oerr))
		}
		return fmt.Errorf("%s: %w: %w", attempted.Action, ErrOutcomeNotRecorded, oerr)
	}
	return actionErr
}

// appendOutcome appends the outcome event of attempted.
func appendOutcome(ctx context.Context, store ports.Store, clock ports.Clock, shop ports.ShopID, attempted ports.AuditEvent, actionErr error, class string) error {
	ev := attempted
	ev.ID, ev.Time, ev.Before, ev.Outcome = ports.NewEventID(), clock.Now(), nil, ports.OutcomeSuccess
	after := map[string]string{"attempt": attempted.ID.String()}
	if actionErr != nil {
		ev.Outcome = ports.OutcomeFailure
		after["error"] = class
	}
	ev.After, _ = json.Marshal(after) // a map of strings always marshals
	return store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Audit().Append(ctx, ev)
		return err
	})
}

// errorClasses maps the ports sentinels to the class names outcome events
// carry, first match wins.
var errorClasses = []struct {
	err   error
	class string
}{
	{ports.ErrInvalid, "invalid"},
	{ports.ErrUnauthenticated, "unauthenticated"},
	{ports.ErrForbidden, "forbidden"},
	{ports.ErrNotFound, "not_found"},
	{ports.ErrLastOwner, "last_owner"},
	{ports.ErrConflict, "conflict"},
	{ports.ErrOptedOut, "opted_out"},
	{ports.ErrRateLimited, "rate_limited"},
	{ports.ErrUnsupported, "unsupported"},
	{ports.ErrUnavailable, "unavailable"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "deadline_exceeded"},
}

// ErrorClass names the kind of err for an audit event: "" for nil, the
// snake-case name of the first ports sentinel (or context error) it
// matches, and "error" for anything else. It never includes the error's
// message.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range errorClasses {
		if errors.Is(err, c.err) {
			return c.class
		}
	}
	return "error"
}
