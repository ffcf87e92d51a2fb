package testkit

import (
	"testing"
	"time"
)

// WaitLimit bounds Eventually. It only decides how long a failing test
// takes to say so: a wait returns as soon as its condition holds.
const WaitLimit = 20 * time.Second

// pollEvery is how often Eventually asks again.
const pollEvery = 5 * time.Millisecond

// Eventually waits until cond holds, asking every few milliseconds, and
// fails the test if it still does not after WaitLimit. what names what is
// awaited, for the failure message.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, WaitLimit, what, cond)
}

// EventuallyWithin is Eventually with its own limit, for a wait that may
// rightly take longer than WaitLimit or whose limit is part of the claim.
func EventuallyWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(limit, pollEvery, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// Poll asks cond, then again every interval, until it holds or limit has
// passed, and reports whether it held. It is the loop under Eventually, for
// a wait whose failure needs more said than a name (the caller explains and
// fails), or whose condition is costly to ask often.
func Poll(limit, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
	return true
}
