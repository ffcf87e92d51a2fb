// Package report is cardflow's counters and what is read from them: every
// write that changes an order or a purchase adds to quarter-hour slot
// counters in the same transaction (Count*), and a period's Figures,
// histograms and Reconciliation are read back from them, never from the
// orders. The daily report, /stats, the chart and the supplier scorecards
// all read here.
package report

import (
	"math"
	"time"

	"cardflow/internal/money"
	"cardflow/storage"
)

// The engine counts what happens into the store's slot counters (see
// storage/stats.go) in the same write as the change itself, through the
// functions below, so the daily report, /stats and the supplier scorecards
// are exactly as durable as the orders they describe.

// Durations are counted in histogram buckets growing by √2 from 50 ms:
// bucket i holds durations up to 50ms·√2^i, the last bucket anything
// longer. Percentiles read from them are within a factor of √2, plenty for
// "p95 went from 2 s to 40 s".
const (
	histBase    = 50 * time.Millisecond
	histBuckets = 48 // the last one starts near 10 days
)

// histBucket is the bucket of d.
func histBucket(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(2 * math.Log2(float64(d)/float64(histBase))))
	return min(i, histBuckets-1)
}

// HistUpper is the upper bound of bucket i.
func HistUpper(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Pow(math.Sqrt2, float64(i)))
}

// CountMove counts an order's transition in its write. Call it before
// o.Move, with the order still in its old status.
func CountMove(tx *storage.Tx, at time.Time, o *storage.Order, to storage.Status, reason string) {
	c := counter{tx: tx, now: at}
	now := storage.Slot(at)
	cohort := storage.Slot(o.CreatedAt)
	amount := int64(o.Amount)
	if o.Status == "" { // accepted just now
		c.stat(now, storage.MetricOrders, o.SKU, 1)
		c.stat(now, storage.MetricPaid, o.SKU, amount)
	} else {
		c.stat(cohort, storage.MetricCohort, string(o.Status), -amount)
	}
	c.stat(cohort, storage.MetricCohort, string(to), amount)

	if o.Status == storage.StatusReview && to != storage.StatusReview {
		if t, ok := o.Last(storage.StatusReview); ok {
			c.stat(now, storage.MetricReviewWait, bucketLabel(c.now.Sub(t.At)), 1)
		}
	}
	switch to {
	case storage.StatusReview:
		c.stat(now, storage.MetricReviews, "", 1)
	case storage.StatusDelivered:
		if _, before := o.Last(storage.StatusDelivered); before {
			return // a reissue: the order was counted when first delivered
		}
		c.stat(now, storage.MetricDelivered, "", 1)
		c.stat(now, storage.MetricDeliveredAmount, "", amount)
		c.stat(now, storage.MetricDeliveryTime, bucketLabel(c.now.Sub(o.CreatedAt)), 1)
	case storage.StatusRefunded:
		c.stat(now, storage.MetricRefunded, "", 1)
		c.stat(now, storage.MetricRefundedAmount, "", amount)
	case storage.StatusFailed:
		c.stat(now, storage.MetricFailed, reason, 1)
	}
}

// CountAttempt counts, in its write, a supplier attempt whose state an
// answer changed. Own stock is not a supplier that can be late or wrong,
// and is left out.
func CountAttempt(tx *storage.Tx, at time.Time, a *storage.Attempt, prev storage.AttemptState, remote bool) {
	if !remote || a.State == prev {
		return
	}
	c := counter{tx: tx, now: at}
	now := storage.Slot(at)
	took := storage.SupplierLabel(a.Supplier, histBucket(c.now.Sub(a.SentAt)))
	if prev == storage.AttemptVerifying {
		if a.State == storage.AttemptBad { // counted as delivered on the first look
			c.stat(now, storage.MetricSupplierBad, a.Supplier, 1)
		}
		return
	}
	switch a.State {
	case storage.AttemptSucceeded, storage.AttemptVerifying:
		c.stat(now, storage.MetricSupplierOK, a.Supplier, 1)
		c.stat(now, storage.MetricSupplierCost, a.Supplier, int64(a.Cost))
		c.stat(storage.LifetimeSlot, storage.MetricSupplierCost, a.Supplier, int64(a.Cost))
		c.stat(now, storage.MetricSupplierTime, took, 1)
	case storage.AttemptFailed, storage.AttemptLost:
		c.stat(now, storage.MetricSupplierFail, a.Supplier, 1)
		c.stat(now, storage.MetricSupplierTime, took, 1)
	case storage.AttemptUnknown:
		if prev == storage.AttemptSending {
			c.stat(now, storage.MetricSupplierUnknown, a.Supplier, 1)
		}
	}
}

// CountBadCard counts, in its write, a purchase whose cards were refused,
// or a card of an upheld claim.
func CountBadCard(tx *storage.Tx, at time.Time, supplier string) {
	counter{tx: tx}.stat(storage.Slot(at), storage.MetricSupplierBad, supplier, 1)
}

// CountClaimOpened counts, in its write, a claim opened on an order of sku
// naming cards from sources (the supplier of each; "" where unknown).
func CountClaimOpened(tx *storage.Tx, at time.Time, sku string, sources []string) {
	c, slot := counter{tx: tx}, storage.Slot(at)
	c.stat(slot, storage.MetricClaimsOpened, sku, 1)
	for _, s := range sources {
		if s != "" {
			c.stat(slot, storage.MetricClaimCards, s, 1)
		}
	}
}

// CountClaimResolved counts, in its write, a claim on an order of sku
// resolved at at: upheld (reissued or refunded) or not, how long it was
// open, and its named cards by supplier. The bad cards an upheld claim
// charges a supplier are the caller's (CountBadCard).
func CountClaimResolved(tx *storage.Tx, at time.Time, sku string, cl *storage.Claim, upheld bool) {
	c, slot := counter{tx: tx}, storage.Slot(at)
	c.stat(slot, storage.MetricClaimsResolved, sku, 1)
	c.stat(slot, storage.MetricClaimTime, bucketLabel(at.Sub(cl.CreatedAt)), 1)
	if upheld {
		c.stat(slot, storage.MetricClaimsUpheld, sku, 1)
	}
	for _, s := range cl.Sources {
		if s == "" {
			continue
		}
		c.stat(slot, storage.MetricClaimCardsDone, s, 1)
		if upheld {
			c.stat(slot, storage.MetricClaimCardsBad, s, 1)
		}
	}
}

// CountRuleHit counts, in its write, an order a rule decided at intake.
func CountRuleHit(tx *storage.Tx, at time.Time, rule string) {
	counter{tx: tx}.stat(storage.Slot(at), storage.MetricRuleHits, rule, 1)
}

// CountShopCharge counts, in its write, a docking shop's order charged to
// its balance (amount > 0), or a refund given back to it (amount < 0, no
// order).
func CountShopCharge(tx *storage.Tx, at time.Time, shop string, amount money.Amount) {
	c, slot := counter{tx: tx}, storage.Slot(at)
	if amount > 0 {
		c.stat(slot, storage.MetricShopOrders, shop, 1)
	}
	c.stat(slot, storage.MetricShopSpend, shop, int64(amount))
}

// CountBalance records, in its write, a supplier's balance reading beside
// the spend counted so far: side by side they let Reconcile compare the
// balance's movement with purchases.
func CountBalance(tx *storage.Tx, at time.Time, supplier string, balance money.Amount) {
	slot := storage.Slot(at)
	spent := tx.Counters().Get(storage.StatKey{Slot: storage.LifetimeSlot, Metric: storage.MetricSupplierCost, Label: supplier})
	tx.Counters().Set(storage.StatKey{Slot: slot, Metric: storage.MetricBalance, Label: supplier}, int64(balance))
	tx.Counters().Set(storage.StatKey{Slot: slot, Metric: storage.MetricBalanceSpend, Label: supplier}, spent)
}

// counter adds to the counters of one write at one moment.
type counter struct {
	tx  *storage.Tx
	now time.Time
}

// stat adds to a counter; the write commits it with everything else.
func (c counter) stat(slot uint32, m storage.Metric, label string, delta int64) {
	c.tx.Counters().Add(storage.StatKey{Slot: slot, Metric: m, Label: label}, delta)
}

// statsKept is how long slot counters are kept: reports look back a week,
// operators sometimes a quarter.
const statsKept = 93 * 24 * time.Hour

// Prune deletes counters older than statsKept, a chunk per write so that
// orders never wait behind a long one.
func Prune(store *storage.Store, now time.Time) error {
	before := storage.Slot(now.Add(-statsKept))
	for {
		var n int
		err := store.Update(func(tx *storage.Tx) error {
			var err error
			n, err = tx.Counters().Prune(before, 5000)
			return err
		})
		if err != nil || n < 5000 {
			return err
		}
	}
}

func bucketLabel(d time.Duration) string { return string([]byte{byte(histBucket(d))}) }
