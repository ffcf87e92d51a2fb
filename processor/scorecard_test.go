package processor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/storage"
	"cardflow/suppliers"
)

func (f *fixture) refreshScores() {
	f.t.Helper()
	if err := f.engine.RefreshScores(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) scorecard(name string) Scorecard {
	f.t.Helper()
	for _, sc := range f.engine.Scorecards() {
		if sc.Supplier == name {
			return sc
		}
	}
	f.t.Fatalf("no scorecard for %s", name)
	return Scorecard{}
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

// TestRankSourcesMovesASourceAheadOnlyWhenItScoresMoreThanTheMarginBetter
// states adaptive routing's order: a source goes ahead of one configured
// before it only when its score is more than 0.05 higher, and a source
// without a score (own stock, a supplier with fewer than 10 ended purchases
// in the hour) keeps its configured position while the others are ordered
// around it.
func TestRankSourcesMovesASourceAheadOnlyWhenItScoresMoreThanTheMarginBetter(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		scores     map[string]float64 // a source missing here has no score
		want       string
	}{
		{"close scores across a 0.05 step keep the order", "a b", map[string]float64{"a": 0.524, "b": 0.526}, "a b"},
		{"a lead of exactly 0.05 keeps the order", "a b", map[string]float64{"a": 0.50, "b": 0.55}, "a b"},
		{"a lead over 0.05 moves ahead", "a b", map[string]float64{"a": 0.50, "b": 0.551}, "b a"},
		{"a worse source stays behind", "a b", map[string]float64{"a": 0.90, "b": 0.20}, "a b"},
		{"a failing first source goes last", "a b c", map[string]float64{"a": 0, "b": 0.9, "c": 0.92}, "b c a"},
		{"equal scores keep the order", "a b c d", map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1}, "a b c d"},

		{"a new supplier does not jump ahead", "a new", map[string]float64{"a": 0.60}, "a new"},
		{"a new supplier first stays first", "new a", map[string]float64{"a": 0.99}, "new a"},
		{"the others are ordered around a new supplier", "a new c", map[string]float64{"a": 0.80, "c": 0.95}, "c new a"},
		{"own stock keeps its place too", "own a b", map[string]float64{"a": 0.3, "b": 0.9}, "own b a"},
		{"nothing scored keeps the order", "own new", nil, "own new"},

		// Closeness is not transitive: a source passes the ones before it
		// one at a time, each by more than 0.05.
		{"a chain of small steps keeps the order", "a b c", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.58}, "a b c"},
		{"a big step passes a small one", "a c b", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.58}, "c a b"},
		{"a big lead passes every source it beats", "a b c", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.60}, "c a b"},
		{"a passing source stops behind one it is close to", "a b c", map[string]float64{"a": 0.50, "b": 0.60, "c": 0.62}, "b c a"},
		{"already best first", "a b c", map[string]float64{"a": 0.58, "b": 0.54, "c": 0.50}, "a b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sources []config.Source
			for _, name := range strings.Fields(tt.configured) {
				sources = append(sources, config.Source{Supplier: name})
			}
			got := rankSources(sources, func(supplier string) (float64, bool) {
				s, ok := tt.scores[supplier]
				return s, ok
			})
			names := make([]string, len(got))
			for i, s := range got {
				names[i] = s.Supplier
			}
			if strings.Join(names, " ") != tt.want {
				t.Errorf("configured %q with scores %v: tried %q, want %q", tt.configured, tt.scores, strings.Join(names, " "), tt.want)
			}
		})
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
// RefreshScores switches second verification on for a (alert, audit); from
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
	testkit.Eventually(f.t, "verification alert", func() bool { return f.alerts.has(AlertVerifying, false, "a") })
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
	testkit.Eventually(f.t, "verification resolved", func() bool { return f.alerts.has(AlertVerifying, true, "a") })
	assertAudited(t, f, "verify.off", "a")
	f.restart()
	if f.engine.verifying("a") {
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
	f.engine.scores.mu.Lock()
	f.engine.scores.verifying["a"] = true
	f.engine.scores.mu.Unlock()
	o := f.submit("held", "steam-50", 1, 5000)
	got := f.tickStatus(o.ID, storage.StatusReview)
	if got.Reason != ReasonVerifyHold+":a" {
		t.Fatalf("review reason %q", got.Reason)
	}
	testkit.Eventually(f.t, "review alert", func() bool { return f.alerts.has(AlertReview, false, ReasonVerifyHold) })
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
