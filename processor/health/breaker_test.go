package health

import (
	"sync"
	"testing"
	"time"

	"cardflow/suppliers"
)

// bus stands for the cluster's nudges: what a process publishes reaches
// every process, itself included, at once (cluster.Single and Join's own
// delivery do the same).
type bus struct {
	mu  sync.Mutex
	ups map[*breakers][]string // what heard reported, per process
	all []*breakers
}

func (u *bus) publish(topic, payload string) {
	if topic != TopicSupplier {
		panic("topic " + topic)
	}
	for _, b := range u.all {
		if up := b.heard(payload); up != "" {
			u.mu.Lock()
			u.ups[b] = append(u.ups[b], up)
			u.mu.Unlock()
		}
	}
}

func (u *bus) process(probe time.Duration) *breakers {
	b := newBreakers(map[string]breakerSettings{"fulu": {failures: 2, probe: probe}}, time.Now, u.publish, func(string, bool) {})
	u.all = append(u.all, b)
	return b
}

func answer(s suppliers.Status) func() suppliers.Result {
	return func() suppliers.Result { return suppliers.Result{Status: s} }
}

// TestABreakerOpeningElsewhereHoldsTheSupplierHereUntilItsProbeAnswers:
// process a sees two unknown outcomes and opens; b, which sent nothing,
// avoids the supplier too (its state reads open), and a alone probes once the
// probe time is up. Its probe answers: b uses the supplier again and its
// waiting orders are told. Then a opens again and says nothing more (it
// died): b holds the supplier two probe intervals, no longer. Payloads
// from other configurations or garbage change nothing.
func TestABreakerOpeningElsewhereHoldsTheSupplierHereUntilItsProbeAnswers(t *testing.T) {
	const probe = 300 * time.Millisecond // b holds 600 ms: room for a slow machine between the checks
	u := &bus{ups: map[*breakers][]string{}}
	a, b := u.process(probe), u.process(probe)
	for range 2 {
		if _, sent := a.call("fulu", answer(suppliers.StatusUnknown)); !sent {
			t.Fatal("a refused a request before its breaker opened")
		}
	}
	if !a.down("fulu") || !b.down("fulu") {
		t.Fatalf("after a's breaker opened: a down %v, b down %v; want both", a.down("fulu"), b.down("fulu"))
	}
	if got := b.state("fulu"); got != "open" {
		t.Errorf("b's state reads %q", got)
	}
	if !b.markedDown("fulu") {
		t.Error("b does not count the supplier marked down")
	}
	for _, p := range []string{"down:other", "down", ":", "sideways:fulu", "up:other"} {
		u.publish(TopicSupplier, p)
	}
	time.Sleep(probe + 20*time.Millisecond)
	if a.down("fulu") {
		t.Fatal("a, whose breaker opened, does not probe after the probe time (its own words held it up)")
	}
	if !b.down("fulu") {
		t.Fatal("b stopped avoiding the supplier before a's probe answered")
	}
	if _, sent := a.call("fulu", answer(suppliers.StatusSucceeded)); !sent {
		t.Fatal("a's probe was not sent")
	}
	if a.down("fulu") || b.down("fulu") || b.markedDown("fulu") {
		t.Fatalf("after the probe answered: a down %v, b down %v", a.down("fulu"), b.down("fulu"))
	}
	if got := u.ups[b]; len(got) != 1 || got[0] != "fulu" {
		t.Errorf("b heard the supplier answer again %v, want [fulu] once", got)
	}
	if got := u.ups[a]; len(got) != 0 {
		t.Errorf("a heard its own words as news: %v", got)
	}

	for range 2 {
		a.call("fulu", answer(suppliers.StatusUnknown))
	}
	if !b.down("fulu") {
		t.Fatal("b does not avoid the supplier after a opened again")
	}
	time.Sleep(2*probe + 20*time.Millisecond)
	if b.down("fulu") {
		t.Error("b still avoids the supplier two probe intervals after a fell silent")
	}
}
