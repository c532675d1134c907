package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/ports"
)

// Kind names a kind of tampering.
type Kind string

// The kinds of tampering Verify tells apart.
const (
	// KindEdited: an event's stored fields no longer hash to its Hash (or
	// an event was re-hashed after an edit, so the next one no longer
	// links to it).
	KindEdited Kind = "edited"
	// KindDeleted: events are missing from the sequence (a gap, or later
	// events renumbered to close it).
	KindDeleted Kind = "deleted"
	// KindInserted: an event that was never appended sits in the chain.
	KindInserted Kind = "inserted"
	// KindReordered: events are in another order than they were appended.
	KindReordered Kind = "reordered"
	// KindTruncated: the chain ends before the size a checkpoint signed.
	KindTruncated Kind = "truncated"
	// KindCheckpointMismatch: the event at a checkpoint's size does not
	// have the signed hash (history before it was rewritten), or two
	// checkpoints sign different heads at one size.
	KindCheckpointMismatch Kind = "checkpoint-mismatch"
	// KindCheckpointRegression: a checkpoint is smaller than one added
	// before it.
	KindCheckpointRegression Kind = "checkpoint-regression"
	// KindBadSignature: a checkpoint's signature does not verify with the
	// known keys, or its signed text does not match the shop or its row.
	KindBadSignature Kind = "bad-signature"
	// KindPrefixChanged: the events from before the chain are not the
	// prefix fixed when the chain began (ports.AuditRepo.Unhashed): the
	// chain starts inside it, or the log ends before it does. (An
	// unhashed event past it is KindEdited: its hash was removed.)
	KindPrefixChanged Kind = "prefix-changed"
)

// Problem is one finding of Verify.
type Problem struct {
	Kind Kind
	// Seq is the first bad event's sequence number: the edited, inserted
	// or first moved event, the first missing one for deletions and
	// truncation, a checkpoint's size for checkpoint problems.
	Seq int64
	// Event is the named event's ID when a row holds it (zero for a
	// missing event and for checkpoint problems).
	Event ports.EventID
	// Checkpoint is the N of the checkpoint concerned, or 0.
	Checkpoint int64
	Detail     string
}

// String renders p as "seq 42: edited: <detail>".
func (p Problem) String() string {
	s := fmt.Sprintf("seq %d: %s", p.Seq, p.Kind)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Report is what Verify found in one shop's log.
type Report struct {
	Shop ports.ShopID
	// Events is the number of events read (up to the first problem);
	// Unhashed of them come from before the chain.
	Events   int64
	Unhashed int64
	// Head and HeadHash are the last good event's Seq and Hash.
	Head     int64
	HeadHash ports.AuditHash
	// Checkpoints is the number of checkpoints whose signatures verified;
	// Checkpoint is the largest of them (N == 0 if none).
	Checkpoints int
	Checkpoint  ports.AuditCheckpoint
	// Problems lists what is wrong, the chain's first bad event first,
	// then problems with the checkpoints. Empty when the log verifies.
	Problems []Problem
}

// OK reports whether the log verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// ErrTampered is matched (errors.Is) by every *TamperError.
var ErrTampered = errors.New("audit log tampered")

// TamperError is returned by Checkpoint when it refuses to sign.
type TamperError struct {
	Shop    ports.ShopID
	Problem Problem
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit log of shop %s: %s", e.Shop, e.Problem)
}

// Is makes errors.Is(err, ErrTampered) hold.
func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// Verify walks shop's log in pages and checks it against its signed
// checkpoints (see the package documentation). Tampering is reported in
// the Report, naming the first bad event and its kind; the error is for
// failures to read. verifiers must know the keys checkpoints were signed
// with (note.VerifierList).
func Verify(ctx context.Context, st ports.Store, shop ports.ShopID, verifiers note.Verifiers) (Report, error) {
	cs, err := readChainState(ctx, st, shop)
	if err != nil {
		return Report{Shop: shop}, err
	}
	return verify(ctx, shop, storeSource(st, shop), cs, verifiers)
}

// verify is Verify over a source of events and the shop's checkpoints and
// unhashed prefix size.
func verify(ctx context.Context, shop ports.ShopID, src source, cs chainState, verifiers note.Verifiers) (Report, error) {
	trusted, cpProblems := checkCheckpoints(shop, cs.cps, verifiers)
	w := newWalker(trusted, cs.unhashed)
	rep, err := walk(ctx, src, w, 0)
	rep.Shop = shop
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) == 0 {
		rep.Problems = w.endProblems(rep, trusted)
	}
	rep.Problems = append(rep.Problems, cpProblems...)
	rep.Checkpoints, rep.Checkpoint = trusted.count, trusted.latest
	return rep, nil
}

func truncated(head int64, c ports.AuditCheckpoint) Problem {
	return Problem{Kind: KindTruncated, Seq: head + 1, Checkpoint: c.N,
		Detail: fmt.Sprintf("the log ends at seq %d but checkpoint %d signed %d events", head, c.N, c.Size)}
}

// source reads up to limit events with Seq > after, in Seq order.
type source func(ctx context.Context, after int64, limit int) ([]ports.AuditEvent, error)

// storeSource reads pages of shop's log, each in its own read-only unit of
// work (so walking a long log holds no transaction open).
func storeSource(st ports.Store, shop ports.ShopID) source {
	return func(ctx context.Context, after int64, limit int) ([]ports.AuditEvent, error) {
		var page []ports.AuditEvent
		err := st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: after, Limit: limit})
			return err
		}, ports.ReadOnly())
		if err != nil {
			return nil, fmt.Errorf("audit: read log of shop %s: %w", shop, err)
		}
		return page, nil
	}
}

// pageSize is the number of events read per page (the most List returns).
const pageSize = 1000

// window is how many events after a broken link classification looks at.
const window = 256

// fetchers is how many pages walk reads at once.
const fetchers = 3

// walk feeds w the events after seq after and stops at the first broken
// link, which it classifies. It reads ahead: page k asks for the events
// after seq after+k*pageSize, up to fetchers pages at once, while the
// current page is hashed. In a gap-free log the pages are consecutive
// ranges; a gap makes a page overlap the next one, whose overlapping rows
// are skipped, and the first short page is the end of the log.
func walk(ctx context.Context, src source, w *walker, after int64) (Report, error) {
	type result struct {
		page []ports.AuditEvent
		err  error
	}
	pctx, cancel := context.WithCancel(ctx)
	pending := make(chan chan result, fetchers)
	var end atomic.Bool // a short page was read: later pages are subsets of it
	firstRead := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		defer close(pending)
		for k := int64(0); !end.Load(); k++ {
			if k == 1 {
				// Read ahead only once the first page is full: most walks
				// (a checkpoint's, every housekeeping pass) end within it,
				// and a read cancelled in flight costs a Postgres
				// connection.
				select {
				case <-firstRead:
				case <-pctx.Done():
					return
				}
				if end.Load() {
					return
				}
			}
			fut := make(chan result, 1)
			select {
			case pending <- fut:
			case <-pctx.Done():
				return
			}
			wg.Add(1)
			go func(k int64) {
				defer wg.Done()
				page, err := src(pctx, after+k*pageSize, pageSize)
				if err != nil || len(page) < pageSize {
					end.Store(true)
				}
				if k == 0 {
					close(firstRead)
				}
				fut <- result{page, err}
			}(k)
		}
	}()
	complete := false
	defer func() {
		if !complete {
			cancel() // a problem or an error: stop the reads in flight
		}
		for range pending { // let the scheduler stop
		}
		wg.Wait()
		cancel()
	}()
	last := after // the last Seq of the previous page
	for fut := range pending {
		res := <-fut
		if res.err != nil {
			return w.report(), res.err
		}
		page := res.page
		for len(page) > 0 && page[0].Seq <= last {
			page = page[1:]
		}
		for i, e := range page {
			p, broken := w.step(e)
			if p == nil && !broken {
				continue
			}
			if broken {
				later, err := lookahead(ctx, src, e, page[i+1:])
				if err != nil {
					return w.report(), err
				}
				c := w.classify(e, later)
				p = &c
			}
			rep := w.reportBefore(p.Seq)
			rep.Problems = []Problem{*p}
			return rep, nil
		}
		if len(res.page) < pageSize {
			break
		}
		last = res.page[len(res.page)-1].Seq
	}
	// The end of the log: the reads still in flight were asked for past
	// it and return at once; waiting for them is cheaper than cancelling.
	complete = true
	return w.report(), nil
}

// lookahead returns up to window events following broken: the rest of
// its page, then more from src.
func lookahead(ctx context.Context, src source, broken ports.AuditEvent, rest []ports.AuditEvent) ([]ports.AuditEvent, error) {
	later := slices.Clone(rest[:min(len(rest), window)])
	if len(later) == window {
		return later, nil
	}
	after := broken.Seq
	if len(later) > 0 {
		after = later[len(later)-1].Seq
	}
	more, err := src(ctx, after, window-len(later))
	if err != nil {
		return nil, err
	}
	return append(later, more...), nil
}
