package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"

	"cardflow/storage"
)

// Status is a rule as operators see it in /rules.
type Status struct {
	Rule
	HitsToday int
	Hits7d    int
}

// List returns the rules in force with their hits today and over the last
// seven days (today included).
func (b *Book) List() ([]Status, error) {
	b.mu.RLock()
	rules := b.rules
	b.mu.RUnlock()
	today := dayOf(b.now(), b.loc)
	out := make([]Status, 0, len(rules))
	err := b.store.View(func(tx *storage.Tx) error {
		for _, r := range rules {
			out = append(out, Status{Rule: r, HitsToday: tx.Rules().Hits(r.Name, today, today),
				Hits7d: tx.Rules().Hits(r.Name, today-6, today)})
		}
		return nil
	})
	return out, err
}

// TestResult is how an expression would have done on recent orders.
type TestResult struct {
	Orders   int      // orders of the last 7 days tried
	Matched  int      // of which the expression matched
	Failed   int      // on which it failed to run (counted as no match)
	Examples []uint64 // the newest matching order ids, at most 5
	// Capped: the last 7 days hold more orders than a test tries; Orders
	// are the newest of them.
	Capped bool
	// TimedOut: the test stopped at TimeLimit; Orders are those tried by then.
	TimedOut  bool
	TimeLimit time.Duration
}

// testWindow is how far back /rules test looks.
const testWindow = 7 * 24 * time.Hour

// ErrTestRunning refuses a /rules test while another runs.
var ErrTestRunning = errors.New("a test is already running")

// Test runs an expression over the last 7 days' orders, newest first, with
// the features each had at intake. It changes nothing. It tries at most
// lim.testOrders orders, reads them lim.testChunk at a time in short read
// transactions and evaluates outside them (so that the writer can always
// grow the file), stops at lim.testTime with a partial result, and runs one
// at a time.
func (b *Book) Test(when string) (TestResult, error) {
	if !b.testing.CompareAndSwap(false, true) {
		return TestResult{}, ErrTestRunning
	}
	defer b.testing.Store(false)
	prog, err := b.lim.compile(when)
	if err != nil {
		return TestResult{}, err
	}
	start := b.now()
	since := start.Add(-testWindow)
	res := TestResult{TimeLimit: b.lim.testTime}
	m := b.lim.newVM()
	var before uint64
	for {
		var chunk []*storage.Order
		err := b.store.View(func(tx *storage.Tx) error {
			var err error
			chunk, err = tx.RecentOrders(before, b.lim.testChunk)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("read orders: %w", err)
		}
		for _, o := range chunk {
			if o.CreatedAt.Before(since) {
				return res, nil
			}
			if res.Orders == b.lim.testOrders {
				res.Capped = true
				return res, nil
			}
			if err := b.try(m, prog, o, &res); err != nil {
				return res, err
			}
		}
		if len(chunk) < b.lim.testChunk {
			return res, nil
		}
		before = chunk[len(chunk)-1].ID
		if b.now().Sub(start) > b.lim.testTime {
			res.TimedOut = true
			return res, nil
		}
	}
}

// try runs prog on one stored order. An evaluation over the budget ends
// the test: the expression would be switched off as a rule.
func (b *Book) try(m *vm.VM, prog *vm.Program, o *storage.Order, res *TestResult) error {
	res.Orders++
	var f storage.Features
	if o.Features != nil {
		f = *o.Features
	} else {
		f.Hour = o.CreatedAt.In(b.loc).Hour()
	}
	env := envOf(o, f)
	start := time.Now()
	out, err := m.Run(prog, &env)
	if time.Since(start) > b.lim.eval || isMemory(err) {
		if took, err := b.lim.measure(m, prog, &env); took > b.lim.eval || isMemory(err) {
			return fmt.Errorf("%w: on order #%d the expression %s", ErrOverLimit, o.ID, b.lim.overrun(took, err))
		}
	}
	if err != nil {
		res.Failed++
		return nil
	}
	if match, _ := out.(bool); match {
		res.Matched++
		if len(res.Examples) < 5 {
			res.Examples = append(res.Examples, o.ID)
		}
	}
	return nil
}
