package ports

import (
	"context"
	"encoding/json"
	"time"
)

// JobState is where a background job is in its life.
type JobState string

// Job states. A job is queued until a worker claims it (running); it ends
// done, or dead after its last attempt failed. A running job whose lease
// ran out (the worker died) is claimable again.
const (
	JobQueued  JobState = "queued"
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
)

// Job is one unit of background work for one shop (TEN-8). It is a tenant
// row: a job carries its shop, and its work runs inside that shop's unit
// of work.
type Job struct {
	ID          JobID
	ShopID      ShopID // set by the store from the unit of work
	Kind        string // names the handler, e.g. "auth.sweep"; 1–64 bytes
	Payload     json.RawMessage
	State       JobState
	Attempts    int       // claims so far, including the running one
	MaxAttempts int       // after this many failed attempts the job is dead; 0 means 10
	RunAt       time.Time // not claimed before this time; zero means now
	LockedUntil time.Time // lease of the running attempt; zero unless running
	LastError   string    // the last failure, truncated to 1000 bytes
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DefaultMaxAttempts is the attempt budget of a job with MaxAttempts 0.
const DefaultMaxAttempts = 10

// Validate checks a job before it is enqueued.
func (j Job) Validate() error {
	if j.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if j.Kind == "" || len(j.Kind) > 64 {
		return Invalid("kind", "must be 1 to 64 bytes")
	}
	if j.MaxAttempts < 0 || j.MaxAttempts > 1000 {
		return Invalid("max_attempts", "must be 0 to 1000")
	}
	if j.Payload != nil && !json.Valid(j.Payload) {
		return Invalid("payload", "must be valid JSON")
	}
	if len(j.Payload) > 64<<10 {
		return Invalid("payload", "must be at most 64 KiB")
	}
	return nil
}

// JobRepo is the job queue of the unit of work's shop. Enqueue in the same
// unit of work as the change that causes the job: roll the change back and
// the job is gone too.
type JobRepo interface {
	// Enqueue stores j as queued (State, Attempts, LockedUntil, LastError
	// are ignored; MaxAttempts 0 becomes DefaultMaxAttempts; a zero RunAt
	// becomes the store's now) and returns the stored job. ErrInvalid for
	// a malformed job, ErrConflict for a taken ID.
	Enqueue(ctx context.Context, j Job) (Job, error)
	// Get returns the job or ErrNotFound.
	Get(ctx context.Context, id JobID) (Job, error)
	// List returns the shop's jobs in state (all states when empty),
	// oldest first, at most limit (0 means 100, capped at 1000).
	List(ctx context.Context, state JobState, limit int) ([]Job, error)
	// Complete marks the running job done. ErrNotFound unless the job is
	// running its attempt number attempt (a worker whose lease ran out and
	// whose job was claimed again cannot complete the newer attempt).
	Complete(ctx context.Context, id JobID, attempt int) error
	// CompleteAll is Complete for several attempts in one statement: it
	// marks done each job that is running the attempt given for it, and
	// returns the IDs of the jobs it marked, in no particular order. An
	// attempt that is not its job's current one (where Complete returns
	// ErrNotFound) is left as it is and missing from the result; whether
	// that spoils the unit of work is the caller's to decide. No attempts
	// is nothing to do. ErrInvalid for more than MaxBatch attempts or a
	// job named twice.
	CompleteAll(ctx context.Context, attempts []JobAttempt) ([]JobID, error)
	// Fail records a failed attempt: the job is queued again to run at
	// retryAt, or dead when dead is true or its attempts are used up.
	// ErrNotFound unless the job is running attempt number attempt.
	// Returns the stored job.
	Fail(ctx context.Context, id JobID, attempt int, reason string, retryAt time.Time, dead bool) (Job, error)
	// Retry puts a dead job back in the queue with a fresh attempt budget,
	// to run at runAt. ErrNotFound unless the job is dead.
	Retry(ctx context.Context, id JobID, runAt time.Time) (Job, error)
	// DeleteDone removes the shop's done jobs that finished (UpdatedAt)
	// before before, and returns how many. Queued, running and dead jobs
	// are kept: a dead job waits for someone to look at it.
	DeleteDone(ctx context.Context, before time.Time) (int, error)
}

// JobQueue is the one cross-shop path of the job system, for the runner:
// it hands out due jobs of any shop. It is a maintenance path (TEN-1): the
// runner then does each job's work, and marks it, inside that job's shop's
// unit of work, never through JobQueue. Implementations must be safe for
// concurrent use by several runners (and, for shared databases, several
// processes): a job is handed to at most one claimer per lease.
type JobQueue interface {
	// Claim marks up to limit due jobs running and returns them with
	// Attempts incremented and LockedUntil set to now+lease. Due means
	// queued with RunAt at or before now, or running with LockedUntil at
	// or before now (a dead worker's lease ran out). Oldest RunAt first. A
	// running job whose lease ran out after its last attempt is marked dead
	// (LastError "lease expired") instead of being handed out. limit is 1
	// to 1000 and lease positive and at most MaxLease, or ErrInvalid.
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Job, error)
}

// JobAttempt names one attempt of one job, as JobRepo.Complete and Fail
// fence it: the job's ID and its attempt number.
type JobAttempt struct {
	ID      JobID
	Attempt int
}

// MaxBatch is the most items one call of a batch method takes
// (JobRepo.CompleteAll, OutboxRepo.DispatchAll and MarkAllSent,
// ConsentRepo.ConsentOf, UserRepo.GetMany): the largest claim of JobQueue
// and OutboxQueue.
const MaxBatch = 1000

// MaxLease is the longest lease a claim of JobQueue or OutboxQueue may
// take: no claimer holds due work for longer.
const MaxLease = 24 * time.Hour
