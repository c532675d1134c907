package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/ports"
)

// OriginPrefix starts the origin line of every checkpoint; the shop's ID
// follows it.
const OriginPrefix = "stockade.audit/"

// Origin returns the origin line of shop's checkpoints.
func Origin(shop ports.ShopID) string { return OriginPrefix + shop.String() }

// CheckpointText returns the text a checkpoint of shop's chain signs: the
// origin, the size and the head hash, one per line.
func CheckpointText(shop ports.ShopID, size int64, head ports.AuditHash) string {
	return Origin(shop) + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(head[:]) + "\n"
}

// ParseCheckpointText parses a checkpoint text of shop's chain (see
// CheckpointText). The origin must be shop's, the size a positive decimal
// without leading zeros, the hash 32 bytes in padded standard base64.
func ParseCheckpointText(shop ports.ShopID, text string) (size int64, head ports.AuditHash, err error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return 0, head, errors.New("checkpoint text is not three lines")
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	if origin != Origin(shop) {
		return 0, head, fmt.Errorf("checkpoint is for %q, not this shop", origin)
	}
	sizeText := strings.TrimSuffix(lines[1], "\n")
	size, err = strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 1 || strconv.FormatInt(size, 10) != sizeText {
		return 0, head, fmt.Errorf("checkpoint size %q is not a positive number", sizeText)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(b) != ports.AuditHashSize {
		return 0, head, errors.New("checkpoint hash is not 32 bytes of base64")
	}
	copy(head[:], b)
	return size, head, nil
}

// Checkpoint signs the head of shop's chain with signer and stores the
// checkpoint, after making sure it signs a sound chain: every stored
// checkpoint must verify with verifiers (which must know signer's key)
// and none may be smaller than an earlier one, and the events since the
// largest of them must link to it. On any problem it signs nothing and
// returns a *TamperError naming the first bad event of the whole log (it
// then walks the log from the start, as Verify does). History that a
// signed checkpoint already pins is not walked again on success: Verify
// checks it.
//
// When the head has not moved since the largest checkpoint, Checkpoint
// stores nothing and returns that checkpoint. With no hashed event yet it
// returns the zero checkpoint. Checkpoints of one shop must not be taken
// concurrently (the store refuses the second with ports.ErrConflict).
func Checkpoint(ctx context.Context, st ports.Store, shop ports.ShopID, signer note.Signer, verifiers note.Verifiers) (ports.AuditCheckpoint, error) {
	cs, err := readChainState(ctx, st, shop)
	if err != nil {
		return ports.AuditCheckpoint{}, err
	}
	trusted, problems := checkCheckpoints(shop, cs.cps, verifiers)
	if len(problems) > 0 {
		return ports.AuditCheckpoint{}, &TamperError{Shop: shop, Problem: problems[0]}
	}
	w := newWalker(trusted, cs.unhashed)
	after := int64(0)
	if trusted.latest.N != 0 {
		// Start at the largest checkpoint's event: it must carry the signed
		// hash, and everything after it must link to it.
		w.resume(trusted.latest.Size)
		after = trusted.latest.Size - 1
	}
	src := storeSource(st, shop)
	rep, err := walk(ctx, src, w, after)
	if err != nil {
		return ports.AuditCheckpoint{}, err
	}
	if len(rep.Problems) == 0 {
		rep.Problems = w.endProblems(rep, trusted)
	}
	if len(rep.Problems) > 0 {
		// Rare: walk the whole log to name the first bad event with all
		// the history classification can use.
		full, err := verify(ctx, shop, src, cs, verifiers)
		if err != nil {
			return ports.AuditCheckpoint{}, err
		}
		if len(full.Problems) > 0 {
			rep.Problems = full.Problems
		}
		return ports.AuditCheckpoint{}, &TamperError{Shop: shop, Problem: rep.Problems[0]}
	}
	switch {
	case rep.HeadHash.IsZero():
		return ports.AuditCheckpoint{}, nil
	case trusted.latest.N != 0 && rep.Head == trusted.latest.Size:
		return trusted.latest, nil
	}
	text := CheckpointText(shop, rep.Head, rep.HeadHash)
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return ports.AuditCheckpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	var stored ports.AuditCheckpoint
	err = st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		stored, err = tx.AuditCheckpoints().Add(ctx, ports.AuditCheckpoint{Size: rep.Head, Hash: rep.HeadHash, Note: string(signed)})
		return err
	})
	if err != nil {
		return ports.AuditCheckpoint{}, fmt.Errorf("audit: store checkpoint: %w", err)
	}
	return stored, nil
}

// chainState is what verification reads besides the events: the shop's
// checkpoints in the order they were added, and the size of its prefix
// from before the chain.
type chainState struct {
	cps      []ports.AuditCheckpoint
	unhashed int64
}

// readChainState reads shop's checkpoints and unhashed prefix size in one
// read-only unit of work.
func readChainState(ctx context.Context, st ports.Store, shop ports.ShopID) (chainState, error) {
	var cs chainState
	err := st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if cs.unhashed, err = tx.Audit().Unhashed(ctx); err != nil {
			return err
		}
		for after := int64(0); ; {
			page, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{AfterN: after, Limit: 1000})
			if err != nil || len(page) == 0 {
				return err
			}
			cs.cps = append(cs.cps, page...)
			after = page[len(page)-1].N
		}
	}, ports.ReadOnly())
	if err != nil {
		return chainState{}, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	return cs, nil
}

// trustedCheckpoints are the checkpoints whose signatures verified.
type trustedCheckpoints struct {
	bySize map[int64]ports.AuditCheckpoint // the first valid checkpoint of each size
	latest ports.AuditCheckpoint           // the largest valid one; N == 0 if none
	count  int
}

// checkCheckpoints verifies cps (in N order) and returns the valid ones and
// the problems found: a bad signature (or a note that does not match its
// row), a checkpoint smaller than an earlier one, two different heads
// signed at one size.
func checkCheckpoints(shop ports.ShopID, cps []ports.AuditCheckpoint, verifiers note.Verifiers) (trustedCheckpoints, []Problem) {
	t := trustedCheckpoints{bySize: map[int64]ports.AuditCheckpoint{}}
	var problems []Problem
	for _, c := range cps {
		if err := verifyCheckpoint(shop, c, verifiers); err != nil {
			problems = append(problems, Problem{Kind: KindBadSignature, Seq: c.Size, Checkpoint: c.N,
				Detail: fmt.Sprintf("checkpoint %d: %v", c.N, err)})
			continue
		}
		if c.Size < t.latest.Size {
			problems = append(problems, Problem{Kind: KindCheckpointRegression, Seq: c.Size, Checkpoint: c.N,
				Detail: fmt.Sprintf("checkpoint %d (size %d) is smaller than checkpoint %d (size %d) before it", c.N, c.Size, t.latest.N, t.latest.Size)})
		}
		if seen, ok := t.bySize[c.Size]; ok {
			if seen.Hash != c.Hash {
				problems = append(problems, Problem{Kind: KindCheckpointMismatch, Seq: c.Size, Checkpoint: c.N,
					Detail: fmt.Sprintf("checkpoints %d and %d sign different heads at size %d", seen.N, c.N, c.Size)})
			}
		} else {
			t.bySize[c.Size] = c
		}
		if c.Size >= t.latest.Size {
			t.latest = c
		}
		t.count++
	}
	return t, problems
}

// verifyCheckpoint checks c's signature with verifiers and that its signed
// text is a checkpoint of shop stating c's size and hash.
func verifyCheckpoint(shop ports.ShopID, c ports.AuditCheckpoint, verifiers note.Verifiers) error {
	n, err := note.Open([]byte(c.Note), verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return errors.New("not signed by a known key")
		}
		return err
	}
	size, head, err := ParseCheckpointText(shop, n.Text)
	if err != nil {
		return err
	}
	if size != c.Size || head != c.Hash {
		return errors.New("the stored size or hash differs from the signed note")
	}
	return nil
}
