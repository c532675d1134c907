package jobs

import (
	"context"
	"time"
)

// Poll calls round until ctx is done: at once, again at once after a full
// batch (round reported batch items), and otherwise after interval or as
// soon as wake receives. A failed round goes to onError and is retried
// after interval. It is the loop of Runner.Run and of other claim-based
// workers (the messaging outbox).
func Poll(ctx context.Context, round func(context.Context) (int, error), batch int, interval time.Duration, wake <-chan struct{}, onError func(error)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			onError(err)
		} else if n == batch {
			continue // a full batch: there may be more due now
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}
