package rules

import (
	"time"

	"github.com/expr-lang/expr"

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
func (e *Engine) List() ([]Status, error) {
	e.mu.RLock()
	rules := e.rules
	e.mu.RUnlock()
	today := dayOf(e.now(), e.loc)
	out := make([]Status, 0, len(rules))
	err := e.store.View(func(tx *storage.Tx) error {
		for _, r := range rules {
			out = append(out, Status{Rule: r, HitsToday: tx.RuleHits(r.Name, today, today),
				Hits7d: tx.RuleHits(r.Name, today-6, today)})
		}
		return nil
	})
	return out, err
}

// TestResult is how an expression would have done on recent orders.
type TestResult struct {
	Orders   int      // orders of the last 7 days
	Matched  int      // of which the expression matched
	Failed   int      // on which it failed to run (counted as no match)
	Examples []uint64 // the newest matching order ids, at most 5
}

// testWindow is how far back /rules test looks.
const testWindow = 7 * 24 * time.Hour

// Test runs an expression over the last 7 days' orders with the features
// each had at intake. It changes nothing.
func (e *Engine) Test(when string) (TestResult, error) {
	prog, err := Compile(when)
	if err != nil {
		return TestResult{}, err
	}
	since := e.now().Add(-testWindow)
	var res TestResult
	err = e.store.View(func(tx *storage.Tx) error {
		return tx.RecentOrders(func(o *storage.Order) bool {
			if o.CreatedAt.Before(since) {
				return false
			}
			res.Orders++
			var f storage.Features
			if o.Features != nil {
				f = *o.Features
			} else {
				f.Hour = o.CreatedAt.In(e.loc).Hour()
			}
			out, err := expr.Run(prog, envOf(o, f))
			if err != nil {
				res.Failed++
				return true
			}
			if match, _ := out.(bool); match {
				res.Matched++
				if len(res.Examples) < 5 {
					res.Examples = append(res.Examples, o.ID)
				}
			}
			return true
		})
	})
	return res, err
}
