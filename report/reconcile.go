package report

import (
	"fmt"
	"time"

	"cardflow/alert"
	"cardflow/internal/money"
	"cardflow/storage"
)

// Reconciliation checks a period's money three ways, each against a record
// kept apart from the one it is compared with:
//
//   - what the period's orders paid against what became of them: every paid
//     order is delivered, refunded, failed or still open, and the amounts
//     must add up to the amount paid;
//   - the open part of that against the open-order index, read order by
//     order: an order lost between the two shows here;
//   - supplier spend counted from purchases against the movement of the
//     supplier's own balance, where it reports one (Fulu does).
type Reconciliation struct {
	Paid                        money.Amount
	Delivered, Refunded, Failed money.Amount // of the period's orders, by their status now
	Open                        money.Amount // pending, in review or processing, by the counters
	OpenIndexed                 money.Amount // the same, read from the open-order index
	OpenOrders                  int
	Balances                    []BalanceCheck
	Problems                    []string
}

// BalanceCheck compares a supplier's balance movement with our purchases
// between its first and last balance reading of the period.
type BalanceCheck struct {
	Supplier    string
	Movement    money.Amount // balance at the first reading less at the last
	Spend       money.Amount // purchases counted between the two readings
	Unexplained money.Amount // Movement - Spend: positive is money gone without a purchase
}

// balanceTolerance is how far balance movement may drift from counted
// spend before it is a problem: ¥1, or 1% of the spend if more (a
// purchase charged at the supplier but not yet answered sits in between).
func balanceTolerance(spend money.Amount) money.Amount {
	return max(100, spend/100)
}

// Counters reads a store's counters for the operator layer: a period's
// figures and their reconciliation.
type Counters struct {
	store     *storage.Store
	suppliers []string
	raise     func(storage.Alert) error
}

// New reads the counters of store. suppliers are the configured supplier
// names in config order (balances are checked in it); raise raises an alert
// durably for the operators (processor.Engine.RaiseAlert).
func New(store *storage.Store, suppliers []string, raise func(storage.Alert) error) *Counters {
	return &Counters{store: store, suppliers: suppliers, raise: raise}
}

// Figures sums the counters of [from, to) (see Read).
func (c *Counters) Figures(from, to time.Time, loc *time.Location) (*Figures, error) {
	return Read(c.store, from, to, loc)
}

// Reconcile checks the figures of a period (see Reconciliation). A
// mismatch is listed in Problems; raise says whether to raise an alert for
// it, keyed by the period so that it is raised once.
func (c *Counters) Reconcile(f *Figures, raise bool) (*Reconciliation, error) {
	r := &Reconciliation{
		Paid:      f.Paid,
		Delivered: f.Cohort[storage.StatusDelivered],
		Refunded:  f.Cohort[storage.StatusRefunded],
		Failed:    f.Cohort[storage.StatusFailed],
		Open:      f.Cohort[storage.StatusPending] + f.Cohort[storage.StatusReview] + f.Cohort[storage.StatusProcessing],
	}
	// The index is read in short transactions (a backlog is many thousand
	// orders); an order that moves from one open status to another
	// meanwhile may be met twice, and counts once.
	seen := map[uint64]bool{}
	for _, s := range []storage.Status{storage.StatusPending, storage.StatusReview, storage.StatusProcessing} {
		err := c.store.EachOpenOrder(s, func(o *storage.Order) error {
			if !seen[o.ID] && !o.CreatedAt.Before(f.From) && o.CreatedAt.Before(f.To) {
				seen[o.ID] = true
				r.OpenIndexed += o.Amount
				r.OpenOrders++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if sum := r.Delivered + r.Refunded + r.Failed + r.Open; sum != r.Paid {
		r.Problems = append(r.Problems, fmt.Sprintf("paid ¥%s but delivered, refunded, failed and open add up to ¥%s", r.Paid, sum))
	}
	if r.Open != r.OpenIndexed {
		r.Problems = append(r.Problems, fmt.Sprintf("open orders ¥%s by the counters, ¥%s in the open-order index", r.Open, r.OpenIndexed))
	}
	for _, name := range c.suppliers {
		s := f.Suppliers[name]
		if s == nil || s.Readings < 2 {
			continue
		}
		b := BalanceCheck{Supplier: name, Movement: s.BalanceFirst - s.BalanceLast, Spend: s.SpendLast - s.SpendFirst}
		b.Unexplained = b.Movement - b.Spend
		r.Balances = append(r.Balances, b)
		if b.Unexplained > balanceTolerance(b.Spend) {
			r.Problems = append(r.Problems, fmt.Sprintf("%s balance fell ¥%s but purchases came to ¥%s", name, b.Movement, b.Spend))
		}
	}
	if raise && len(r.Problems) > 0 {
		key := fmt.Sprintf("%s:%s", alert.Reconcile, f.From.UTC().Format(time.RFC3339))
		err := c.raise(storage.Alert{Key: key, Type: alert.Reconcile, Count: len(r.Problems), Detail: r.Problems[0]})
		if err != nil {
			return r, fmt.Errorf("raise reconciliation alert: %w", err)
		}
	}
	return r, nil
}
