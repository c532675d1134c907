package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// The batch methods (JobRepo.CompleteAll, OutboxRepo.DispatchAll and
// MarkAllSent, ConsentRepo.ConsentOf) each run one statement over up to
// ports.MaxBatch rows of the unit of work's shop, named by a list of IDs
// spelled out as placeholders: the statements use nothing a driver
// encodes on its own (no arrays), so they read the same on every
// database and driver. The rows are found through the primary key
// (shop_id, id) with id IN (…), and each row's attempt is fenced with a
// CASE over its ID. UserRepo.GetMany (directory.go) reads global rows the
// same way, through the primary key id.

// checkBatch refuses a batch of more than ports.MaxBatch items or one
// that names an ID twice; what names the batch's items in the error.
func checkBatch[ID comparable](what string, ids []ID) error {
	if len(ids) > ports.MaxBatch {
		return ports.Invalid(what, fmt.Sprintf("at most %d at once", ports.MaxBatch))
	}
	seen := make(map[ID]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			return ports.Invalid(what, fmt.Sprintf("%v named twice", id))
		}
		seen[id] = struct{}{}
	}
	return nil
}

// inList is "?, ?, …" for n placeholders (n ≥ 1).
func inList(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}

// attemptFence is the WHERE clause that selects, of the shop's rows
// named by ids, those whose attempts column holds the attempt given for
// each (attempts[i] for ids[i]), and its arguments; state is the state
// the row must be in (a literal, never from outside). The clause reads
// "shop_id = ? AND id IN (…) AND state = '…' AND attempts = CASE id WHEN
// ? THEN ? … END": a row named but at another attempt meets no WHEN and
// compares with NULL, which is not true.
func (t *Shop) attemptFence(state string, ids []any, attempts []int) (string, []any) {
	args := make([]any, 0, 1+3*len(ids))
	args = append(args, t.shop)
	args = append(args, ids...)
	var b strings.Builder
	b.WriteString("shop_id = ? AND id IN (")
	b.WriteString(inList(len(ids)))
	b.WriteString(") AND state = '")
	b.WriteString(state)
	b.WriteString("' AND attempts = CASE id")
	then := t.cast("?", "integer")
	for i, id := range ids {
		b.WriteString(" WHEN ? THEN ")
		b.WriteString(then)
		args = append(args, id, attempts[i])
	}
	b.WriteString(" END")
	return b.String(), args
}

// attemptsOf checks a batch of attempts (checkBatch on their IDs) and
// splits it into attemptFence's keys and attempt numbers, in order; none
// for an empty batch.
func attemptsOf[ID comparable, A any](attempts []A, of func(A) (ID, int)) ([]any, []int, error) {
	ids := make([]ID, len(attempts))
	keys, nums := make([]any, len(attempts)), make([]int, len(attempts))
	for i, a := range attempts {
		id, n := of(a)
		ids[i], keys[i], nums[i] = id, id, n
	}
	if err := checkBatch("attempts", ids); err != nil {
		return nil, nil, err
	}
	return keys, nums, nil
}

// CompleteAll marks the running attempts done in one UPDATE (see
// attemptFence) and returns the IDs it changed.
func (r jobs) CompleteAll(ctx context.Context, attempts []ports.JobAttempt) ([]ports.JobID, error) {
	keys, nums, err := attemptsOf(attempts, func(a ports.JobAttempt) (ports.JobID, int) { return a.ID, a.Attempt })
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	where, args := r.t.attemptFence("running", keys, nums)
	var done []ports.JobID
	err = r.t.sel(ctx, &done, `UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ? WHERE `+where+` RETURNING id`,
		append([]any{r.t.now()}, args...)...)
	if err != nil {
		return nil, r.t.wrap("complete jobs", err)
	}
	return done, nil
}

// DispatchAll records the sending attempts as dispatched in one UPDATE
// (see attemptFence) and returns the IDs it changed.
func (r outbox) DispatchAll(ctx context.Context, attempts []ports.MessageAttempt) ([]ports.MessageID, error) {
	keys, nums, err := attemptsOf(attempts, func(a ports.MessageAttempt) (ports.MessageID, int) { return a.ID, a.Attempt })
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	where, args := r.t.attemptFence("sending", keys, nums)
	var out []ports.MessageID
	err = r.t.sel(ctx, &out, `UPDATE outbox_messages SET dispatched = attempts, updated_at = ? WHERE `+where+` RETURNING id`,
		append([]any{r.t.now()}, args...)...)
	if err != nil {
		return nil, r.t.wrap("dispatch messages", err)
	}
	return out, nil
}

// MarkAllSent marks the sending attempts sent in one UPDATE (see
// attemptFence), each message's provider ID chosen by a CASE over its ID,
// and returns the IDs it changed.
func (r outbox) MarkAllSent(ctx context.Context, sent []ports.SentAttempt) ([]ports.MessageID, error) {
	keys, nums, err := attemptsOf(sent, func(s ports.SentAttempt) (ports.MessageID, int) { return s.ID, s.Attempt })
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	now := r.t.now()
	var set strings.Builder
	set.WriteString("UPDATE outbox_messages SET state = 'sent', locked_until = NULL, sent_at = ?, last_error = '', updated_at = ?, provider_id = CASE id")
	args := make([]any, 0, 2+2*len(sent))
	args = append(args, now, now)
	for _, s := range sent {
		set.WriteString(" WHEN ? THEN ?")
		args = append(args, s.ID, orNull(s.ProviderID))
	}
	set.WriteString(" END WHERE ")
	where, fence := r.t.attemptFence("sending", keys, nums)
	var out []ports.MessageID
	if err := r.t.sel(ctx, &out, set.String()+where+` RETURNING id`, append(args, fence...)...); err != nil {
		return nil, r.t.wrap("mark messages sent", err)
	}
	return out, nil
}

// ConsentOf reads the contacts and their records in one statement, as
// Consent does for one: a contact without records is one row of NULLs,
// an unknown contact no row.
func (r consent) ConsentOf(ctx context.Context, ids []ports.ContactID) (map[ports.ContactID][]ports.Consent, error) {
	if len(ids) > ports.MaxBatch {
		return nil, ports.Invalid("contacts", fmt.Sprintf("at most %d at once", ports.MaxBatch))
	}
	out := make(map[ports.ContactID][]ports.Consent, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, 1+len(ids))
	args = append(args, r.t.shop)
	seen := make(map[ports.ContactID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			args = append(args, id)
		}
	}
	var rows []struct {
		Contact   ports.ContactID `db:"id"`
		Topic     sql.NullString  `db:"topic"`
		OptedOut  sql.NullBool    `db:"opted_out"`
		Source    sql.NullString  `db:"source"`
		ChangedAt Time            `db:"changed_at"`
	}
	err := r.t.sel(ctx, &rows, `SELECT c.id, k.topic, k.opted_out, k.source, k.changed_at
		FROM messaging_contacts c LEFT JOIN messaging_consent k ON k.shop_id = c.shop_id AND k.contact_id = c.id
		WHERE c.shop_id = ? AND c.id IN (`+inList(len(args)-1)+`) ORDER BY c.id, k.topic`, args...)
	if err != nil {
		return nil, r.t.wrap("consent of contacts", err)
	}
	for _, row := range rows {
		records, ok := out[row.Contact]
		if !ok {
			records = []ports.Consent{}
		}
		if row.Topic.Valid {
			records = append(records, consentRow{Contact: row.Contact, Topic: row.Topic.String, OptedOut: row.OptedOut.Bool,
				Source: row.Source.String, ChangedAt: row.ChangedAt}.port())
		}
		out[row.Contact] = records
	}
	return out, nil
}
