package audit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/ports"
)

var testShop = ports.NewShopID()

// chain returns n events of testShop as a store appends them.
func chain(n int) []ports.AuditEvent {
	return extend(nil, n)
}

// extend appends n events to log the way a store does.
func extend(log []ports.AuditEvent, n int) []ports.AuditEvent {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for range n {
		e := ports.AuditEvent{
			ID: ports.NewEventID(), ShopID: testShop, Seq: int64(len(log) + 1), Time: t0.Add(time.Duration(len(log)) * time.Second),
			Actor: "user:1", Action: fmt.Sprintf("thing.done.%d", len(log)+1), Target: "thing:1", Outcome: ports.OutcomeSuccess,
			After: json.RawMessage(`{"n":1}`), IP: "203.0.113.1", RequestID: "req",
		}
		if len(log) > 0 {
			e.PrevHash = log[len(log)-1].Hash
		}
		e.Hash = e.ChainHash()
		log = append(log, e)
	}
	return log
}

// rows returns log as the database would list it: sorted by Seq.
func rows(log []ports.AuditEvent) []ports.AuditEvent {
	out := slices.Clone(log)
	slices.SortStableFunc(out, func(a, b ports.AuditEvent) int { return int(a.Seq - b.Seq) })
	return out
}

func sliceSource(log []ports.AuditEvent) source {
	sorted := rows(log)
	return func(_ context.Context, after int64, limit int) ([]ports.AuditEvent, error) {
		i, _ := slices.BinarySearchFunc(sorted, after+1, func(e ports.AuditEvent, seq int64) int { return int(e.Seq - seq) })
		return slices.Clone(sorted[i:min(len(sorted), i+limit)]), nil
	}
}

type keys struct {
	signer    note.Signer
	verifiers note.Verifiers
}

func newKeys(t testing.TB, name string) keys {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	require.NoError(t, err)
	s, err := note.NewSigner(skey)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	return keys{s, note.VerifierList(v)}
}

// sign returns a checkpoint of shop at log's event size, as Checkpoint
// stores it.
func (k keys) sign(t testing.TB, shop ports.ShopID, log []ports.AuditEvent, size int64) ports.AuditCheckpoint {
	t.Helper()
	h := log[size-1].Hash
	signed, err := note.Sign(&note.Note{Text: CheckpointText(shop, size, h)}, k.signer)
	require.NoError(t, err)
	return ports.AuditCheckpoint{ShopID: shop, Size: size, Hash: h, Note: string(signed)}
}

func numbered(cps ...ports.AuditCheckpoint) []ports.AuditCheckpoint {
	for i := range cps {
		cps[i].N = int64(i + 1)
	}
	return cps
}

func run(t *testing.T, log []ports.AuditEvent, k keys, cps ...ports.AuditCheckpoint) Report {
	t.Helper()
	rep, err := verify(context.Background(), testShop, sliceSource(log), chainState{cps: numbered(cps...)}, k.verifiers)
	require.NoError(t, err)
	return rep
}

func TestVerifyCleanChains(t *testing.T) {
	k := newKeys(t, "test")
	for _, n := range []int{0, 1, 2, pageSize - 1, pageSize, pageSize + 1, 2*pageSize + 17} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			log := chain(n)
			var cps []ports.AuditCheckpoint
			if n > 0 {
				cps = append(cps, k.sign(t, testShop, log, int64((n+1)/2)), k.sign(t, testShop, log, int64(n)))
			}
			rep := run(t, log, k, cps...)
			assert.Empty(t, rep.Problems)
			assert.True(t, rep.OK())
			assert.Equal(t, int64(n), rep.Events)
			assert.Equal(t, int64(n), rep.Head)
			if n > 0 {
				assert.Equal(t, log[n-1].Hash, rep.HeadHash)
				assert.Equal(t, 2, rep.Checkpoints)
				assert.Equal(t, int64(n), rep.Checkpoint.Size)
			}
		})
	}
}

// Each tamper is what an attacker with the database owner's rights does to
// the rows (SQL UPDATE, DELETE, INSERT), usually without fixing hashes;
// the verifier must name the first bad event and the kind.
func TestVerifyNamesTheTamper(t *testing.T) {
	const n = 20
	edit := func(seq int64, fn func(*ports.AuditEvent)) func([]ports.AuditEvent) []ports.AuditEvent {
		return func(log []ports.AuditEvent) []ports.AuditEvent { fn(&log[seq-1]); return log }
	}
	renumber := func(log []ports.AuditEvent, from int64, by int64) {
		for i := range log {
			if log[i].Seq >= from {
				log[i].Seq += by
			}
		}
	}
	// forged is a made-up event for seq: "copy" copies the hashes of the
	// row before it (INSERT … SELECT), "null" has none, "valid" is
	// well-formed and linked by an attacker who read ports.AuditHash.
	forged := func(log []ports.AuditEvent, seq int64, how string) ports.AuditEvent {
		e := ports.AuditEvent{ID: ports.NewEventID(), ShopID: testShop, Seq: seq, Time: log[seq-2].Time,
			Actor: "user:evil", Action: "alibi", Outcome: ports.OutcomeSuccess}
		switch how {
		case "valid":
			e.PrevHash = log[seq-2].Hash
			e.Hash = e.ChainHash()
		case "copy":
			e.PrevHash, e.Hash = log[seq-2].PrevHash, log[seq-2].Hash
		}
		return e
	}
	insert := func(seq int64, how string) func([]ports.AuditEvent) []ports.AuditEvent {
		return func(log []ports.AuditEvent) []ports.AuditEvent {
			e := forged(log, seq, how)
			renumber(log, seq, 1)
			return append(log, e)
		}
	}
	tests := []struct {
		name    string
		tamper  func([]ports.AuditEvent) []ports.AuditEvent
		want    Kind
		wantSeq int64
		named   int64 // seq, in the untampered log, of the event Problem.Event names; 0 for none
	}{
		{"edit actor", edit(7, func(e *ports.AuditEvent) { e.Actor = "user:2" }), KindEdited, 7, 7},
		{"edit after json", edit(7, func(e *ports.AuditEvent) { e.After = json.RawMessage(`{"n": 1}`) }), KindEdited, 7, 7},
		{"edit time", edit(1, func(e *ports.AuditEvent) { e.Time = e.Time.Add(time.Microsecond) }), KindEdited, 1, 1},
		{"edit last", edit(n, func(e *ports.AuditEvent) { e.Outcome = ports.OutcomeFailure }), KindEdited, n, n},
		{"edit and re-hash", edit(7, func(e *ports.AuditEvent) { e.Actor = "user:2"; e.Hash = e.ChainHash() }), KindEdited, 7, 7},
		{"remove hash", edit(7, func(e *ports.AuditEvent) { e.Hash, e.PrevHash = ports.AuditHash{}, ports.AuditHash{} }), KindEdited, 7, 7},
		{"delete one", func(log []ports.AuditEvent) []ports.AuditEvent { return slices.Delete(log, 6, 7) }, KindDeleted, 7, 0},
		{"delete three", func(log []ports.AuditEvent) []ports.AuditEvent { return slices.Delete(log, 6, 9) }, KindDeleted, 7, 0},
		{"delete first", func(log []ports.AuditEvent) []ports.AuditEvent { return log[1:] }, KindDeleted, 1, 0},
		{"delete and renumber", func(log []ports.AuditEvent) []ports.AuditEvent {
			log = slices.Delete(log, 6, 7)
			renumber(log, 8, -1)
			return log
		}, KindDeleted, 7, 0},
		{"delete two and renumber", func(log []ports.AuditEvent) []ports.AuditEvent {
			log = slices.Delete(log, 6, 8)
			renumber(log, 9, -2)
			return log
		}, KindDeleted, 7, 0},
		{"insert copied row", insert(7, "copy"), KindInserted, 7, -1},
		{"insert unhashed row", insert(7, "null"), KindInserted, 7, -1},
		{"insert well-formed row", insert(7, "valid"), KindInserted, 7, -1},
		{"insert second", insert(2, "valid"), KindInserted, 2, -1},
		{"insert before last", insert(n, "copy"), KindInserted, n, -1},
		{"swap neighbours", func(log []ports.AuditEvent) []ports.AuditEvent {
			log[6].Seq, log[7].Seq = log[7].Seq, log[6].Seq
			return log
		}, KindReordered, 7, 8},
		{"swap distant", func(log []ports.AuditEvent) []ports.AuditEvent {
			log[6].Seq, log[11].Seq = log[11].Seq, log[6].Seq
			return log
		}, KindReordered, 7, 12},
		{"swap contents", func(log []ports.AuditEvent) []ports.AuditEvent {
			a, b := log[6], log[7]
			log[6], log[7] = b, a
			log[6].Seq, log[7].Seq = 7, 8
			return log
		}, KindReordered, 7, 8},
	}
	k := newKeys(t, "test")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := chain(n)
			log := tt.tamper(slices.Clone(orig))
			rep := run(t, log, k)
			require.False(t, rep.OK(), "tamper went unnoticed")
			p := rep.Problems[0]
			assert.Equal(t, tt.want, p.Kind, p.String())
			assert.Equal(t, tt.wantSeq, p.Seq, p.String())
			switch {
			case tt.named > 0:
				assert.Equal(t, orig[tt.named-1].ID, p.Event, "names the event")
			case tt.named < 0:
				assert.NotZero(t, p.Event, "names the forged event")
				for _, e := range orig {
					assert.NotEqual(t, e.ID, p.Event)
				}
			default:
				assert.Zero(t, p.Event, "a missing event has no row to name")
			}
			assert.Equal(t, tt.wantSeq-1, rep.Head, "the report stops at the last good event")
			assert.Len(t, rep.Problems, 1)
		})
	}
}

func TestVerifyAgainstCheckpoints(t *testing.T) {
	k := newKeys(t, "test")
	other := newKeys(t, "test") // same name, another key
	log := chain(20)

	t.Run("TruncatedTail", func(t *testing.T) {
		rep := run(t, log[:15], k, k.sign(t, testShop, log, 10), k.sign(t, testShop, log, 20))
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, Problem{Kind: KindTruncated, Seq: 16, Checkpoint: 2, Detail: "the log ends at seq 15 but checkpoint 2 signed 20 events"}, rep.Problems[0])
	})
	t.Run("TruncatedWithoutCheckpointGoesUnnoticed", func(t *testing.T) {
		rep := run(t, log[:15], k, k.sign(t, testShop, log, 10))
		assert.True(t, rep.OK(), "the documented limit: only a checkpoint pins the tail")
	})
	t.Run("TruncatedToNothing", func(t *testing.T) {
		rep := run(t, nil, k, k.sign(t, testShop, log, 20))
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, KindTruncated, rep.Problems[0].Kind)
		assert.Equal(t, int64(1), rep.Problems[0].Seq)
	})
	t.Run("RewrittenAndRehashed", func(t *testing.T) {
		forged := chain(0)
		forged = append(forged, log[:6]...)
		forged = extend(forged, 14) // seq 7.. re-made from scratch, links and all
		assert.True(t, run(t, forged, k).OK(), "without a checkpoint a full re-hash is invisible")
		rep := run(t, forged, k, k.sign(t, testShop, log, 20))
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, KindCheckpointMismatch, rep.Problems[0].Kind)
		assert.Equal(t, int64(20), rep.Problems[0].Seq)
	})
	t.Run("Regression", func(t *testing.T) {
		rep := run(t, log, k, k.sign(t, testShop, log, 15), k.sign(t, testShop, log, 10))
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, KindCheckpointRegression, rep.Problems[0].Kind)
		assert.Equal(t, int64(10), rep.Problems[0].Seq)
		assert.Equal(t, int64(2), rep.Problems[0].Checkpoint)
		assert.Equal(t, int64(15), rep.Checkpoint.Size, "the largest checkpoint still counts")
	})
	t.Run("TruncatedAndResigned", func(t *testing.T) {
		short := log[:12]
		rep := run(t, short, k, k.sign(t, testShop, log, 15), k.sign(t, testShop, short, 12))
		kinds := []Kind{}
		for _, p := range rep.Problems {
			kinds = append(kinds, p.Kind)
		}
		assert.Equal(t, []Kind{KindTruncated, KindCheckpointRegression}, kinds)
	})
	t.Run("BadSignatures", func(t *testing.T) {
		good := k.sign(t, testShop, log, 20)
		bySomeoneElse := other.sign(t, testShop, log, 20)
		otherShop := ports.NewShopID()
		forAnotherShop := k.sign(t, otherShop, log, 20)
		forAnotherShop.ShopID = testShop
		liedRow := good
		liedRow.Size = 25
		editedText := good
		editedText.Note = CheckpointText(testShop, 20, log[19].Hash) + good.Note[len(CheckpointText(testShop, 20, log[19].Hash)):]
		editedText.Note = "stockade.audit/" + testShop.String() + "\n21\n" + editedText.Note[len("stockade.audit/"+testShop.String()+"\n20\n"):]
		for name, c := range map[string]ports.AuditCheckpoint{
			"another key": bySomeoneElse, "another shop": forAnotherShop, "row lies": liedRow, "text edited": editedText,
		} {
			t.Run(name, func(t *testing.T) {
				rep := run(t, log, k, good, c)
				require.Len(t, rep.Problems, 1, "%v", rep.Problems)
				assert.Equal(t, KindBadSignature, rep.Problems[0].Kind, rep.Problems[0].String())
				assert.Equal(t, int64(2), rep.Problems[0].Checkpoint)
				assert.Equal(t, 1, rep.Checkpoints)
			})
		}
	})
	t.Run("ForgedLargerCheckpointIsNotTrusted", func(t *testing.T) {
		c := other.sign(t, testShop, extend(slices.Clone(log), 5), 25)
		rep := run(t, log, k, c)
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, KindBadSignature, rep.Problems[0].Kind, "not a truncation: the checkpoint is not ours")
	})
}

// runWith is run with the store's record of the unhashed prefix.
func runWith(t *testing.T, log []ports.AuditEvent, k keys, unhashed int64, cps ...ports.AuditCheckpoint) Report {
	t.Helper()
	rep, err := verify(context.Background(), testShop, sliceSource(log), chainState{cps: numbered(cps...), unhashed: unhashed}, k.verifiers)
	require.NoError(t, err)
	return rep
}

func TestVerifyEventsFromBeforeTheChain(t *testing.T) {
	k := newKeys(t, "test")
	legacy := func(n int) []ports.AuditEvent {
		var log []ports.AuditEvent
		for i := range n {
			log = append(log, ports.AuditEvent{ID: ports.NewEventID(), ShopID: testShop, Seq: int64(i + 1), Time: time.Now(), Actor: "system", Action: "old", Outcome: ports.OutcomeSuccess})
		}
		return log
	}
	// withPrefix returns a log of n events from before the chain, then m
	// chained ones, the first linking to the zero hash.
	withPrefix := func(n, m int) []ports.AuditEvent {
		log := extend(legacy(n), m)
		for i := n; i < n+m; i++ {
			log[i].PrevHash = ports.AuditHash{}
			if i > n {
				log[i].PrevHash = log[i-1].Hash
			}
			log[i].Hash = log[i].ChainHash()
		}
		return log
	}
	unhash := func(log []ports.AuditEvent, seqs ...int64) []ports.AuditEvent {
		log = slices.Clone(log)
		for _, seq := range seqs {
			log[seq-1].Hash, log[seq-1].PrevHash = ports.AuditHash{}, ports.AuditHash{}
		}
		return log
	}
	upTo := func(n int64) []int64 {
		var out []int64
		for i := int64(1); i <= n; i++ {
			out = append(out, i)
		}
		return out
	}
	t.Run("UnhashedPrefix", func(t *testing.T) {
		log := withPrefix(3, 4)
		rep := runWith(t, log, k, 3, k.sign(t, testShop, log, 7))
		assert.True(t, rep.OK(), "%v", rep.Problems)
		assert.Equal(t, int64(7), rep.Events)
		assert.Equal(t, int64(3), rep.Unhashed)
		assert.Equal(t, log[6].Hash, rep.HeadHash)
	})
	t.Run("OnlyUnhashed", func(t *testing.T) {
		rep := runWith(t, legacy(3), k, 3)
		assert.True(t, rep.OK())
		assert.Equal(t, int64(3), rep.Unhashed)
		assert.True(t, rep.HeadHash.IsZero())
	})
	t.Run("UnhashedAfterTheChainStarted", func(t *testing.T) {
		rep := run(t, unhash(chain(5), 4), k)
		require.False(t, rep.OK())
		assert.Equal(t, KindEdited, rep.Problems[0].Kind)
		assert.Equal(t, int64(4), rep.Problems[0].Seq)
	})

	// Issue 16 (3): with every hash removed, the log posed as one from
	// before the chain and verified, checkpoints and all.
	t.Run("EveryHashRemoved", func(t *testing.T) {
		log := chain(25)
		cp := k.sign(t, testShop, log, 25)
		tampered := unhash(log, upTo(25)...)
		for _, cps := range [][]ports.AuditCheckpoint{nil, {cp}} {
			rep := runWith(t, tampered, k, 0, cps...)
			require.False(t, rep.OK(), "%d checkpoint(s)", len(cps))
			assert.Equal(t, Problem{Kind: KindEdited, Seq: 1, Event: log[0].ID,
				Detail: "its hash was removed: only the first 0 events come from before the chain"}, rep.Problems[0])
			assert.Zero(t, rep.Unhashed)
		}
	})
	t.Run("EveryHashRemovedAndThePrefixRecordForged", func(t *testing.T) {
		log := chain(25)
		tampered := unhash(log, upTo(25)...)
		rep := runWith(t, tampered, k, 25, k.sign(t, testShop, log, 20))
		require.False(t, rep.OK())
		assert.Equal(t, Problem{Kind: KindEdited, Seq: 20, Event: log[19].ID, Checkpoint: 1,
			Detail: "its hash was removed: checkpoint 1 signed it"}, rep.Problems[0], "the signed hash is missing")
	})
	t.Run("PrefixGrew", func(t *testing.T) {
		log := withPrefix(3, 5)
		rep := runWith(t, unhash(log, 4, 5), k, 3)
		require.False(t, rep.OK())
		assert.Equal(t, KindEdited, rep.Problems[0].Kind)
		assert.Equal(t, int64(4), rep.Problems[0].Seq, "the first unhashed event past the prefix")
		assert.Equal(t, log[3].ID, rep.Problems[0].Event)

		// With the record grown too, the chain's first event still links
		// to the hash that was removed.
		rep = runWith(t, unhash(log, 4, 5), k, 5)
		require.False(t, rep.OK())
		assert.Equal(t, Problem{Kind: KindEdited, Seq: 5, Event: log[4].ID, Detail: "its hash was removed: seq 6 links to it"}, rep.Problems[0])
		assert.Equal(t, int64(4), rep.Head, "the last good event")
		assert.Equal(t, int64(4), rep.Unhashed)
	})
	t.Run("PrefixShrank", func(t *testing.T) {
		// A log rewritten from seq 2 on, under a record of 3 events from
		// before the chain.
		rep := runWith(t, withPrefix(1, 5), k, 3)
		require.False(t, rep.OK())
		assert.Equal(t, KindPrefixChanged, rep.Problems[0].Kind)
		assert.Equal(t, int64(2), rep.Problems[0].Seq)
	})
	t.Run("LogEndsInsideThePrefix", func(t *testing.T) {
		rep := runWith(t, legacy(2), k, 3)
		require.False(t, rep.OK())
		assert.Equal(t, Problem{Kind: KindPrefixChanged, Seq: 3,
			Detail: "the log ends at seq 2, inside the 3 events from before the chain"}, rep.Problems[0])
	})
}

func TestCheckpointText(t *testing.T) {
	h := chain(1)[0].Hash
	text := CheckpointText(testShop, 42, h)
	size, head, err := ParseCheckpointText(testShop, text)
	require.NoError(t, err)
	assert.Equal(t, int64(42), size)
	assert.Equal(t, h, head)
	for _, bad := range []string{
		"", text + "x\n", text[:len(text)-1], "stockade.audit/" + ports.NewShopID().String() + "\n42\n" + text[len(text)-45:],
		Origin(testShop) + "\n042\n" + text[len(text)-45:], Origin(testShop) + "\n0\n" + text[len(text)-45:],
		Origin(testShop) + "\n-1\n" + text[len(text)-45:], Origin(testShop) + "\n42\nAAAA\n",
	} {
		_, _, err := ParseCheckpointText(testShop, bad)
		assert.Error(t, err, "%q", bad)
	}
}

// BenchmarkVerify measures the verifier alone (hashing and checking links)
// over an in-memory log, without a database.
func BenchmarkVerify(b *testing.B) {
	log := chain(100_000)
	src := sliceSource(log)
	b.ResetTimer()
	for range b.N {
		rep, err := verify(context.Background(), testShop, src, chainState{}, note.VerifierList())
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Problems)
		}
	}
	b.ReportMetric(float64(len(log)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// Pages are read ahead by seq range; gaps make them overlap, and the walk
// must neither skip nor repeat an event, nor run on past the end.
func TestVerifyGapsAcrossPages(t *testing.T) {
	k := newKeys(t, "test")
	const n = 3*pageSize + 10
	tests := []struct {
		name     string
		from, to int // events [from, to) (0-based) are deleted
	}{
		{"across a page boundary", pageSize - 10, pageSize + 10},
		{"longer than a page", 500, 2*pageSize + 100},
		{"the first page", 0, pageSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := slices.Delete(chain(n), tt.from, tt.to)
			rep := run(t, log, k)
			require.Len(t, rep.Problems, 1)
			assert.Equal(t, Problem{Kind: KindDeleted, Seq: int64(tt.from + 1),
				Detail: fmt.Sprintf("seq %d to %d are missing", tt.from+1, tt.to)}, rep.Problems[0])
			assert.Equal(t, int64(tt.from), rep.Events)
		})
	}
	t.Run("far-away seq", func(t *testing.T) {
		log := chain(5)
		log[4].Seq = 1 << 40
		rep := run(t, log, k)
		require.Len(t, rep.Problems, 1)
		assert.Equal(t, KindDeleted, rep.Problems[0].Kind)
		assert.Equal(t, int64(5), rep.Problems[0].Seq)
	})
	t.Run("every event once", func(t *testing.T) {
		log := chain(n)
		var reads atomic.Int64
		src := sliceSource(log)
		counting := func(ctx context.Context, after int64, limit int) ([]ports.AuditEvent, error) {
			page, err := src(ctx, after, limit)
			reads.Add(int64(len(page)))
			return page, err
		}
		rep, err := verify(context.Background(), testShop, counting, chainState{}, k.verifiers)
		require.NoError(t, err)
		assert.True(t, rep.OK())
		assert.Equal(t, int64(n), rep.Events)
		assert.LessOrEqual(t, reads.Load(), int64(n+fetchers*pageSize), "reads ahead at most a few pages")
	})
}

// TestWalkReadsAheadOnlyPastAFullPage: a log shorter than a page is read
// with one call, and a walk that reaches the end of the log never cancels
// a read in flight (on Postgres a cancelled read costs a connection).
func TestWalkReadsAheadOnlyPastAFullPage(t *testing.T) {
	k := newKeys(t, "test")
	for _, n := range []int{0, 1, pageSize - 1, pageSize, 2*pageSize + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			src := sliceSource(chain(n))
			var calls, cancelled atomic.Int64
			watching := func(ctx context.Context, after int64, limit int) ([]ports.AuditEvent, error) {
				calls.Add(1)
				page, err := src(ctx, after, limit)
				if ctx.Err() != nil {
					cancelled.Add(1)
				}
				return page, err
			}
			rep, err := verify(context.Background(), testShop, watching, chainState{}, k.verifiers)
			require.NoError(t, err)
			assert.True(t, rep.OK())
			assert.Equal(t, int64(n), rep.Events)
			if n < pageSize {
				assert.Equal(t, int64(1), calls.Load(), "one read for a log shorter than a page")
			}
			assert.Zero(t, cancelled.Load(), "no read was cancelled")
		})
	}
}
