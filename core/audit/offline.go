package audit

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/ports"
)

// Event turns a Record read back from a JSON Lines export into the event
// of shop it was made from, so that its hash can be recomputed. ErrInvalid
// for an ID or hash that is not well-formed.
func (r Record) Event(shop ports.ShopID) (ports.AuditEvent, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return ports.AuditEvent{}, ports.Invalid("event id", fmt.Sprintf("seq %d: %q is not a UUID", r.Seq, r.ID))
	}
	e := ports.AuditEvent{
		ID: ports.EventID{UUID: id}, ShopID: shop, Seq: r.Seq, Time: r.Time, Actor: r.Actor, Impersonator: r.Impersonator,
		Action: r.Action, Target: r.Target, Outcome: r.Outcome, Before: r.Before, After: r.After,
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
	}
	if e.PrevHash, err = hashFromHex(r.PrevHash); err != nil {
		return ports.AuditEvent{}, fmt.Errorf("seq %d: prev_hash: %w", r.Seq, err)
	}
	if e.Hash, err = hashFromHex(r.Hash); err != nil {
		return ports.AuditEvent{}, fmt.Errorf("seq %d: hash: %w", r.Seq, err)
	}
	return e, nil
}

func hashFromHex(s string) (ports.AuditHash, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return ports.AuditHash{}, ports.Invalid("audit hash", "must be hex")
	}
	return ports.AuditHashFromBytes(b)
}

// VerifyExported checks a shop's log as exported, offline: events are the
// shop's events from its first (in any order; they are walked in Seq
// order), unhashed the size of its prefix from before the chain, and notes
// the signed checkpoints that came with them, in the order they were
// added. It walks the chain exactly as Verify walks the database, and
// checks each checkpoint's signature with verifiers, so a log cut short of
// a checkpoint, an edited, dropped, inserted or reordered event, or a
// checkpoint no known key signed is a Problem in the Report. A note that
// is not a checkpoint of shop is a KindBadSignature problem too.
func VerifyExported(ctx context.Context, shop ports.ShopID, events []ports.AuditEvent, unhashed int64, notes []string, verifiers note.Verifiers) (Report, error) {
	cs := chainState{unhashed: unhashed}
	for i, text := range notes {
		c := ports.AuditCheckpoint{ShopID: shop, N: int64(i + 1), Note: text}
		// The size and hash are the signed text's own; verifyCheckpoint
		// checks the signature over them.
		if n, err := note.Open([]byte(text), verifiers); err == nil {
			c.Size, c.Hash, _ = ParseCheckpointText(shop, n.Text)
		}
		cs.cps = append(cs.cps, c)
	}
	sorted := slices.SortedStableFunc(slices.Values(events), func(a, b ports.AuditEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	src := func(_ context.Context, after int64, limit int) ([]ports.AuditEvent, error) {
		i, _ := slices.BinarySearchFunc(sorted, after+1, func(e ports.AuditEvent, seq int64) int { return cmp.Compare(e.Seq, seq) })
		return slices.Clone(sorted[i:min(len(sorted), i+limit)]), nil
	}
	return verify(ctx, shop, src, cs, verifiers)
}
