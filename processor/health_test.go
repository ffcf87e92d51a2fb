package processor

import (
	"fmt"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/processor/health"

	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/storage"
	"cardflow/suppliers"
)

// The thresholds of supplier health, as the README states them: a
// scorecard is believed from 10 ended purchases in the hour; second
// verification goes on at 3 refused purchases (and at least 2% of the
// delivered ones) and off after 10 purchases delivered with fewer than
// 0.5% refused.
const (
	scoreSample     = 10
	verifyOnBad     = 3
	verifyOffSample = 10
)

func (f *fixture) refreshScores() {
	f.t.Helper()
	if err := f.engine.health.Refresh(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) scorecard(name string) health.Scorecard {
	f.t.Helper()
	for _, sc := range f.engine.Scorecards() {
		if sc.Supplier == name {
			return sc
		}
	}
	f.t.Fatalf("no scorecard for %s", name)
	return health.Scorecard{}
}

// buy submits n steam-50 orders and waits until each is delivered.
func (f *fixture) buy(prefix string, n int) {
	f.t.Helper()
	for i := range n {
		o := f.submit(fmt.Sprintf("%s-%d", prefix, i), "steam-50", 1, 5000)
		f.tickStatus(o.ID, storage.StatusDelivered)
	}
}

// tickStatus moves the clock (second verification queries after a delay)
// until the order is in status want.
func (f *fixture) tickStatus(id uint64, want storage.Status) *storage.Order {
	f.t.Helper()
	f.tickUntil(fmt.Sprintf("order %d %s", id, want), 500*time.Millisecond, func() bool { return f.order(id).Status == want })
	return f.order(id)
}

// TestAdaptiveRoutingPutsAFailingSupplierLast: supplier a (listed first)
// refuses twelve purchases in a row; its scorecard shows it, and with
// routing = "adaptive" the next orders go to b first, while with priority
// routing they still try a first.
func TestAdaptiveRoutingPutsAFailingSupplierLast(t *testing.T) {
	for _, routing := range []string{config.RoutingPriority, config.RoutingAdaptive} {
		t.Run(routing, func(t *testing.T) {
			a, b := newScripted(), newScripted()
			a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
				return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonProductUnavailable}
			}
			f := remoteFixture(t, a, b, func(o *Options) { o.Routing = routing })
			f.buy("warm", scoreSample+2)
			f.refreshScores()
			sa, sb := f.scorecard("a"), f.scorecard("b")
			// b's score is 1, or 0.9 when its p95 passed 30 s: buy ticks the
			// clock 500 ms at a time while it waits, and on a loaded machine
			// a purchase can wait through dozens of ticks.
			if sa.Failed != scoreSample+2 || sa.SuccessRate() != 0 || sa.Score != 0 || sb.Succeeded != scoreSample+2 ||
				sb.SuccessRate() != 1 || (sb.Score != 1 && (sb.Score != 0.9 || sb.P95 <= 30*time.Second)) {
				t.Fatalf("scorecards: a %+v, b %+v", sa, sb)
			}
			before, _ := a.calls()
			f.buy("after", 3)
			after, _ := a.calls()
			switch routing {
			case config.RoutingAdaptive:
				if after != before {
					t.Fatalf("adaptive routing still sent %d purchases to a", after-before)
				}
			default:
				if after != before+3 {
					t.Fatalf("priority routing sent %d purchases to a, want 3", after-before)
				}
			}
		})
	}
}

// TestAdaptiveRoutingNeverUsesAPausedSupplier: b doing better does not
// bring it back while it is paused.
func TestAdaptiveRoutingNeverUsesAPausedSupplier(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		if a.submitsSoFar() <= scoreSample+2 {
			return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonProductUnavailable}
		}
		return a.succeed(o.Quantity)
	}
	f := remoteFixture(t, a, b, func(o *Options) { o.Routing = config.RoutingAdaptive })
	f.buy("warm", scoreSample+2)
	f.refreshScores()
	if err := f.engine.Pause(storage.Actor{Name: "alice", Platform: "test"}, "b"); err != nil {
		t.Fatal(err)
	}
	bBefore, _ := b.calls()
	f.buy("paused", 2)
	if bAfter, _ := b.calls(); bAfter != bBefore {
		t.Fatalf("paused supplier b got %d purchases", bAfter-bBefore)
	}
}

// TestAdaptiveRoutingKeepsASupplierWithFewPurchasesInItsPlace: a (listed
// first) refuses its first two purchases, which b then sells; a's hour
// (10 of 12) is worse than b's (2 of 2), but two purchases are too few to
// go by, so the next orders still go to a first.
func TestAdaptiveRoutingKeepsASupplierWithFewPurchasesInItsPlace(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		if a.submitsSoFar() <= 2 {
			return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonProductUnavailable}
		}
		return a.succeed(o.Quantity)
	}
	f := remoteFixture(t, a, b, func(o *Options) { o.Routing = config.RoutingAdaptive })
	f.buy("warm", scoreSample+2)
	f.refreshScores()
	if sa, sb := f.scorecard("a"), f.scorecard("b"); sa.Answered() < scoreSample || sb.Answered() != 2 || sb.Succeeded != 2 {
		t.Fatalf("scorecards: a %+v, b %+v", sa, sb)
	}
	bBefore, _ := b.calls()
	f.buy("after", 3)
	if bAfter, _ := b.calls(); bAfter != bBefore {
		t.Fatalf("b, with 2 purchases in the hour, went ahead of a for %d purchases", bAfter-bBefore)
	}
}

func (s *scripted) queriesOf(no string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[no]
}

func (s *scripted) submitsSoFar() int {
	n, _ := s.calls()
	return n
}

// TestSecondVerificationGoesOnWithBadCardsAndOffWhenTheyStop: supplier a
// sends the same card again and again. After three refused purchases
// Refresh switches second verification on for a (alert, audit); from
// then a's purchases are queried a second time before delivery: cards the
// second answer confirms are delivered, cards it contradicts are bad and
// bought from b. Two hours of clean purchases later it goes off again.
func TestSecondVerificationGoesOnWithBadCardsAndOffWhenTheyStop(t *testing.T) {
	a, b := newScripted(), newScripted()
	dup := suppliers.Result{Status: suppliers.StatusSucceeded, Cards: []card.Card{{Number: "DUP-1", Password: "x"}}}
	mode := "dup"
	answers := map[string]suppliers.Result{} // purchase number → what the first answer said
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		a.mu.Lock()
		m := mode
		a.mu.Unlock()
		var r suppliers.Result
		if m == "dup" {
			r = dup
		} else {
			r = a.succeed(o.Quantity)
		}
		a.mu.Lock()
		answers[o.No] = r
		a.mu.Unlock()
		return r
	}
	a.onQuery = func(no string, n int) suppliers.Result {
		a.mu.Lock()
		defer a.mu.Unlock()
		if mode == "contradict" {
			return suppliers.Result{Status: suppliers.StatusSucceeded, Cards: []card.Card{{Number: "OTHER-" + no, Password: "y"}}}
		}
		return answers[no]
	}
	setMode := func(m string) { a.mu.Lock(); mode = m; a.mu.Unlock() }
	f := remoteFixture(t, a, b, nil)

	f.buy("dup", 1+verifyOnBad) // the first DUP-1 is delivered; the next three are refused
	f.refreshScores()
	if sc := f.scorecard("a"); !sc.Verifying || sc.BadCards != verifyOnBad {
		t.Fatalf("after %d bad cards: %+v", verifyOnBad, sc)
	}
	testkit.Eventually(f.t, "verification alert", func() bool { return f.alerts.has(alert.SupplierVerifying, false, "a") })
	assertAudited(t, f, "verify.on", "a")

	setMode("fresh")
	o := f.submit("checked", "steam-50", 1, 5000)
	got := f.tickStatus(o.ID, storage.StatusDelivered)
	if got.Attempts[0].Supplier != "a" || got.Attempts[0].Reason != reasonVerified || a.queriesOf(got.Attempts[0].No) == 0 {
		t.Fatalf("verified purchase: %+v", got.Attempts)
	}

	setMode("contradict")
	o = f.submit("contradicted", "steam-50", 1, 5000)
	got = f.tickStatus(o.ID, storage.StatusDelivered)
	if got.Attempts[0].State != storage.AttemptBad || got.Attempts[0].Reason != ReasonVerifyMismatch ||
		got.Attempts[len(got.Attempts)-1].Supplier != "b" {
		t.Fatalf("contradicted purchase: %+v", got.Attempts)
	}

	setMode("fresh")
	f.clock.Advance(2 * time.Hour) // the bad cards leave the window
	f.buy("clean", verifyOffSample)
	f.refreshScores()
	if sc := f.scorecard("a"); sc.Verifying {
		t.Fatalf("after %d clean purchases: %+v", verifyOffSample, sc)
	}
	testkit.Eventually(f.t, "verification resolved", func() bool { return f.alerts.has(alert.SupplierVerifying, true, "a") })
	assertAudited(t, f, "verify.off", "a")
	f.restart()
	if f.engine.health.Verifying("a") {
		t.Fatal("verification back on after a restart")
	}
}

// TestVerifyHoldSendsVerifiedOrdersToReview: with verify_hold, an order
// whose cards passed second verification waits for a person, and is
// delivered once approved.
func TestVerifyHoldSendsVerifiedOrdersToReview(t *testing.T) {
	a, b := newScripted(), newScripted()
	answers := map[string]suppliers.Result{}
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		r := a.succeed(o.Quantity)
		a.mu.Lock()
		answers[o.No] = r
		a.mu.Unlock()
		return r
	}
	a.onQuery = func(no string, n int) suppliers.Result { a.mu.Lock(); defer a.mu.Unlock(); return answers[no] }
	f := remoteFixture(t, a, b, func(o *Options) { o.VerifyHold = true })
	// Supplier a is under second verification, as a restart finds it
	// from its open alert.
	err := f.store.Update(func(tx *storage.Tx) error { return tx.Alerts().SetOpen(string(alert.SupplierVerifying)+":a", true) })
	if err != nil {
		t.Fatal(err)
	}
	f.restart()
	o := f.submit("held", "steam-50", 1, 5000)
	got := f.tickStatus(o.ID, storage.StatusReview)
	if got.Reason != ReasonVerifyHold+":a" {
		t.Fatalf("review reason %q", got.Reason)
	}
	testkit.Eventually(f.t, "review alert", func() bool { return f.alerts.has(alert.Review, false, ReasonVerifyHold) })
	if _, err := f.engine.Approve(storage.Actor{Name: "alice", Platform: "test"}, o.ID); err != nil {
		t.Fatal(err)
	}
	got = f.waitStatus(o.ID, storage.StatusDelivered)
	if s, _ := a.calls(); s != 1 {
		t.Fatalf("bought %d times", s)
	}
}

func assertAudited(t *testing.T, f *fixture, action, target string) {
	t.Helper()
	entries, err := f.engine.AuditLog(50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action == action && e.Target == target && e.Actor == storage.System {
			return
		}
	}
	t.Fatalf("no %s of %s in the audit log: %+v", action, target, entries)
}
