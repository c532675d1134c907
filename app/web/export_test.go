package web

import "time"

// TimeLeft is timeLeft, for the tests.
func TimeLeft(d time.Duration) string { return timeLeft(d) }
