package audit

import (
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// recentLinks is how many accepted events the walker remembers, to tell
// an insertion from a deletion when a link breaks.
const recentLinks = 64

// maxShift is the largest renumbering classification tries, when a
// deletion was hidden by moving later events down.
const maxShift = 256

// link is an accepted event's place in the chain.
type link struct {
	seq  int64
	id   ports.EventID
	hash ports.AuditHash
}

// walker checks a shop's events one at a time, in Seq order, keeping only
// the chain's head and a few links before it.
type walker struct {
	cps      trustedCheckpoints
	prefix   int64 // the events from before the chain, as the store fixed them
	h        ports.AuditHasher
	started  bool  // a hashed event was accepted (or the walk resumed)
	resumeAt int64 // the first event's Seq when resuming at a checkpoint
	prev     link  // the last accepted event (zero before the first)
	recent   [recentLinks]link
	n        int // accepted events in recent, at most recentLinks
	events   int64
	unhashed int64
}

// newWalker returns a walker that trusts cps and accepts unhashed events
// only as the first prefix events.
func newWalker(cps trustedCheckpoints, prefix int64) *walker {
	return &walker{cps: cps, prefix: prefix}
}

// resume starts the walk at the event at seq size, which must carry the
// hash of the checkpoint of that size; its link to earlier events is
// vouched for by the signature.
func (w *walker) resume(size int64) {
	w.started, w.resumeAt, w.prev = true, size, link{seq: size - 1}
}

func (w *walker) report() Report {
	return Report{Events: w.events, Unhashed: w.unhashed, Head: w.prev.seq, HeadHash: w.prev.hash}
}

// reportBefore is the report when the first bad event is seq, which may
// be one the walker had already accepted (an edit found by the next link):
// the head is then moved back before it.
func (w *walker) reportBefore(seq int64) Report {
	rep := w.report()
	for i := 0; i < min(w.n, recentLinks) && rep.Head >= seq; i++ {
		l := w.recent[(w.n-1-i)%recentLinks]
		rep.Head, rep.HeadHash = l.seq-1, ports.AuditHash{}
		if j := i + 1; j < min(w.n, recentLinks) {
			rep.HeadHash = w.recent[(w.n-1-j)%recentLinks].hash
		}
	}
	if !w.started && rep.Head >= seq {
		// An unhashed event was accepted before the chain began and
		// named afterwards (its hash was removed): the head moves before it.
		rep.Head, rep.Events, rep.Unhashed = seq-1, rep.Events-(rep.Head-seq+1), rep.Unhashed-(rep.Head-seq+1)
	}
	return rep
}

func (w *walker) accept(e ports.AuditEvent) {
	w.prev = link{seq: e.Seq, id: e.ID, hash: e.Hash}
	w.recent[w.n%recentLinks] = w.prev
	w.n++
	w.events++
}

// step checks e, the next event. It returns a problem it can name at
// once, or broken when e does not continue the chain and classify must
// look further; neither when e is accepted.
func (w *walker) step(e ports.AuditEvent) (p *Problem, broken bool) {
	if e.Seq != w.prev.seq+1 {
		return nil, true
	}
	if !w.started {
		if e.Hash.IsZero() && e.PrevHash.IsZero() {
			if p := w.unhashedProblem(e); p != nil {
				return p, false
			}
			w.prev = link{seq: e.Seq, id: e.ID} // from before the chain: counted, not hashed
			w.events++
			w.unhashed++
			return nil, false
		}
		if e.Seq <= w.prefix {
			return &Problem{Kind: KindPrefixChanged, Seq: e.Seq, Event: e.ID,
				Detail: fmt.Sprintf("it is hashed, but the log's first %d events come from before the chain", w.prefix)}, false
		}
	}
	selfOK := !e.Hash.IsZero() && w.h.Sum(e) == e.Hash
	if e.Seq == w.resumeAt {
		c := w.cps.bySize[e.Seq]
		switch {
		case !selfOK:
			return &Problem{Kind: KindEdited, Seq: e.Seq, Event: e.ID, Detail: "its fields do not match its hash"}, false
		case e.Hash != c.Hash:
			return &Problem{Kind: KindCheckpointMismatch, Seq: e.Seq, Event: e.ID, Checkpoint: c.N,
				Detail: fmt.Sprintf("its hash is not the one checkpoint %d signed", c.N)}, false
		}
		w.accept(e)
		return nil, false
	}
	if !selfOK || e.PrevHash != w.prev.hash {
		return nil, true
	}
	if c, ok := w.cps.bySize[e.Seq]; ok && c.Hash != e.Hash {
		return &Problem{Kind: KindCheckpointMismatch, Seq: e.Seq, Event: e.ID, Checkpoint: c.N,
			Detail: fmt.Sprintf("its hash is not the one checkpoint %d signed: the history up to it was rewritten", c.N)}, false
	}
	w.started = true
	w.accept(e)
	return nil, false
}

// unhashedProblem returns the problem with e, an unhashed event before the
// chain started, or nil if it belongs to the prefix from before the chain:
// the store fixed that prefix's size once, and a signed checkpoint pins
// a hashed event at its size.
func (w *walker) unhashedProblem(e ports.AuditEvent) *Problem {
	if c, ok := w.cps.bySize[e.Seq]; ok {
		return &Problem{Kind: KindEdited, Seq: e.Seq, Event: e.ID, Checkpoint: c.N,
			Detail: fmt.Sprintf("its hash was removed: checkpoint %d signed it", c.N)}
	}
	if e.Seq > w.prefix {
		return &Problem{Kind: KindEdited, Seq: e.Seq, Event: e.ID,
			Detail: fmt.Sprintf("its hash was removed: only the first %d events come from before the chain", w.prefix)}
	}
	return nil
}

// endProblems returns what is wrong with where the walk ended, given its
// report rep (which found no bad event): a tail shorter than the largest
// checkpoint, or a log that ends inside the prefix from before the chain.
func (w *walker) endProblems(rep Report, cps trustedCheckpoints) []Problem {
	switch {
	case cps.latest.Size > rep.Head:
		return []Problem{truncated(rep.Head, cps.latest)}
	case !w.started && rep.Head < w.prefix:
		return []Problem{{Kind: KindPrefixChanged, Seq: rep.Head + 1,
			Detail: fmt.Sprintf("the log ends at seq %d, inside the %d events from before the chain", rep.Head, w.prefix)}}
	}
	return nil
}

// classify names the first bad event and the kind of tampering, given r,
// the event that broke the chain, and up to window events after it.
// Attackers who edit rows in place seldom fix the links, so the links
// tell what happened:
//
//   - a gap in Seq: events were deleted;
//   - r links to an event that comes after it: reordered;
//   - r, intact, links to an event accepted before its predecessor: the
//     events in between were inserted;
//   - a later event links to r's predecessor, skipping r: r was inserted;
//   - r hashes correctly at a higher Seq: it was moved down to hide a
//     deletion;
//   - r links correctly but does not hash: r was edited;
//   - r hashes correctly but links to something else: its predecessor was
//     edited and re-hashed, or, when its predecessor has no hash, that
//     hash was removed;
//   - otherwise r was edited, links and all.
func (w *walker) classify(r ports.AuditEvent, later []ports.AuditEvent) Problem {
	k := w.prev.seq + 1
	at := func(kind Kind, detail string, args ...any) Problem {
		return Problem{Kind: kind, Seq: k, Event: r.ID, Detail: fmt.Sprintf(detail, args...)}
	}
	switch {
	case r.Seq > k:
		p := Problem{Kind: KindDeleted, Seq: k, Detail: fmt.Sprintf("seq %d follows seq %d", r.Seq, w.prev.seq)}
		if r.Seq > k+1 {
			p.Detail = fmt.Sprintf("seq %d to %d are missing", k, r.Seq-1)
		}
		return p
	case r.Seq < k:
		return Problem{Kind: KindInserted, Seq: r.Seq, Event: r.ID, Detail: fmt.Sprintf("seq %d appears twice", r.Seq)}
	}
	if !r.PrevHash.IsZero() {
		for _, l := range later {
			if l.Hash == r.PrevHash {
				return at(KindReordered, "it links to seq %d, which comes after it", l.Seq)
			}
		}
		for i := 1; i < min(w.n, recentLinks); i++ {
			l := w.recent[(w.n-1-i)%recentLinks]
			if l.hash != r.PrevHash {
				continue
			}
			// r links to seq l.seq: the events accepted since were
			// inserted if r is intact, at its seq or at the seq it had
			// before they pushed it up.
			moved := r
			moved.Seq = l.seq + 1
			if r.Hash == w.h.Sum(r) || r.Hash == w.h.Sum(moved) {
				first := w.recent[(w.n-i)%recentLinks]
				return Problem{Kind: KindInserted, Seq: first.seq, Event: first.id,
					Detail: fmt.Sprintf("seq %d links to seq %d: the %d event(s) between were inserted", r.Seq, l.seq, r.Seq-l.seq-1)}
			}
		}
	}
	if w.started {
		for _, l := range later {
			if l.PrevHash == w.prev.hash && !l.Hash.IsZero() {
				return at(KindInserted, "seq %d links to seq %d, skipping it", l.Seq, w.prev.seq)
			}
		}
	}
	selfOK := !r.Hash.IsZero() && w.h.Sum(r) == r.Hash
	if !selfOK && !r.Hash.IsZero() {
		moved := r
		for d := int64(1); d <= maxShift; d++ {
			moved.Seq = r.Seq + d
			if w.h.Sum(moved) == r.Hash {
				return Problem{Kind: KindDeleted, Seq: k,
					Detail: fmt.Sprintf("%d event(s) deleted, later ones renumbered: seq %d was appended as seq %d", d, r.Seq, r.Seq+d)}
			}
		}
	}
	linkOK := r.PrevHash == w.prev.hash
	switch {
	case linkOK:
		return at(KindEdited, "its fields do not match its hash")
	case selfOK && !w.started && w.unhashed > 0 && w.prev.seq == r.Seq-1:
		// The chain's first event links to an event before it, which has
		// no hash: that event's hash was removed.
		return Problem{Kind: KindEdited, Seq: w.prev.seq, Event: w.prev.id,
			Detail: fmt.Sprintf("its hash was removed: seq %d links to it", r.Seq)}
	case selfOK && w.prev.seq > 0 && !w.prev.hash.IsZero():
		return Problem{Kind: KindEdited, Seq: w.prev.seq, Event: w.prev.id,
			Detail: fmt.Sprintf("re-hashed after an edit: seq %d does not link to it", r.Seq)}
	case selfOK:
		return at(KindDeleted, "the chain's first event links to an event that is not there")
	case r.Hash.IsZero():
		return at(KindEdited, "its hash was removed")
	}
	return at(KindEdited, "neither its fields nor its link match")
}
