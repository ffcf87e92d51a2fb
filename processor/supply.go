package processor

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Reasons an order waits or fails because of its sources.
const (
	ReasonSupplierUnavailable = "supplier_unavailable" // every usable source is down or paused
	ReasonPaused              = "paused"               // the product is paused
	ReasonDuplicateCard       = "duplicate_card"       // suppliers kept returning known cards
)

// Routing limits.
const (
	// oosRetry is how soon a source that answered "out of stock" is asked
	// again: suppliers restock, so out of stock everywhere means waiting.
	oosRetry = time.Minute
	// recheckEvery is how often an order waiting for a supplier looks again.
	recheckEvery = 30 * time.Second
	// maxBadPerBatch ends the re-buying of a batch whose sources keep
	// sending cards that were delivered before.
	maxBadPerBatch = 3
	// maxResubmits is how often an attempt proven never created is sent
	// again under the same number before the batch moves on.
	maxResubmits = 1
)

// batch is a slice of an order bought as one supplier purchase.
type batch struct {
	index, quantity int
}

func batchesOf(o *storage.Order, p config.Product) []batch {
	size := max(p.BatchSize, 1)
	var out []batch
	for i, left := 0, o.Quantity; left > 0; i++ {
		q := min(size, left)
		out = append(out, batch{index: i, quantity: q})
		left -= q
	}
	return out
}

// plan is what one look at an order decided, to act on after the commit.
type plan struct {
	sends     []string   // attempt numbers to submit
	queries   []dueQuery // attempts to query, and when
	waitSKU   string     // wait for this SKU's own stock
	waitUntil time.Time  // the wait's deadline
	recheckAt time.Time  // look again then (suppliers may recover or restock)
	seen      uint64     // the SKU's stock version when looked at
}

// dueQuery is an attempt to ask its supplier about, and when.
type dueQuery struct {
	attemptNo string
	at        time.Time
}

// batchAttempts returns the attempts of one batch that still count.
func batchAttempts(o *storage.Order, b int) []*storage.Attempt {
	var out []*storage.Attempt
	for i := range o.Attempts {
		if a := &o.Attempts[i]; a.Batch == b && !a.Archived {
			out = append(out, a)
		}
	}
	return out
}

// archive retires attempts an operator's action has made irrelevant: on a
// retry the failures (so every supplier may be asked again; goods already
// bought are kept), on a reissue the delivered purchases too.
func archive(o *storage.Order, goods bool) {
	for i := range o.Attempts {
		a := &o.Attempts[i]
		if a.State.InFlight() || (a.State == storage.AttemptSucceeded && !goods) {
			continue
		}
		a.Archived = true
	}
}

// advance moves a pending or processing order on: it gives every batch
// without goods and without a purchase in flight a source, delivers when all
// batches have their goods, and otherwise waits or fails. The caller writes
// the order.
func (e *Engine) advance(tx *storage.Tx, c *effects, o *storage.Order, pl *plan) error {
	p, ok := e.products[o.SKU]
	if !ok {
		return e.failOrder(tx, c, o, ReasonUnknownSKU) // the product left the config while the order waited
	}
	if tx.Paused("sku:" + o.SKU) {
		return e.wait(tx, c, o, pl, p, ReasonPaused)
	}
	var (
		waitReason string
		failReason string
		inFlight   bool
		done       = true
	)
	for _, b := range batchesOf(o, p) {
		atts := batchAttempts(o, b.index)
		if slices.ContainsFunc(atts, func(a *storage.Attempt) bool { return a.State == storage.AttemptSucceeded }) {
			continue
		}
		done = false
		if i := slices.IndexFunc(atts, func(a *storage.Attempt) bool { return a.State.InFlight() }); i >= 0 {
			inFlight = true
			if a := atts[i]; a.State != storage.AttemptSending {
				pl.queries = append(pl.queries, dueQuery{attemptNo: a.No, at: a.NextAt})
			}
			continue
		}
		wait, fail, err := e.startBatch(tx, c, o, p, b, atts, pl)
		switch {
		case err != nil:
			return err
		case fail != "":
			failReason = fail
		case wait != "":
			waitReason = moreUrgent(waitReason, wait)
		}
	}
	if done || allBatchesDone(o, p) {
		return e.settle(tx, c, o, p, pl)
	}
	inFlight = inFlight || slices.ContainsFunc(o.Attempts, func(a storage.Attempt) bool { return a.State.InFlight() })
	if failReason != "" && !inFlight { // purchases in flight finish first: their goods are paid for
		return e.failOrder(tx, c, o, failReason)
	}
	if waitReason != "" && !inFlight {
		return e.wait(tx, c, o, pl, p, waitReason)
	}
	if o.Status == storage.StatusPending && inFlight {
		c.move(o, storage.StatusProcessing, "", storage.System)
	}
	return nil
}

func allBatchesDone(o *storage.Order, p config.Product) bool {
	for _, b := range batchesOf(o, p) {
		if !slices.ContainsFunc(batchAttempts(o, b.index), func(a *storage.Attempt) bool {
			return a.State == storage.AttemptSucceeded
		}) {
			return false
		}
	}
	return true
}

// moreUrgent picks the wait reason operators should see first.
func moreUrgent(a, b string) string {
	rank := map[string]int{"": 0, ReasonOutOfStock: 1, ReasonSupplierUnavailable: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// startBatch gives one batch its next source: own stock is taken at once,
// a remote supplier gets a new attempt (stored now, sent after the commit).
// When it can start nothing it says why the batch must wait, or why the
// order must fail.
func (e *Engine) startBatch(tx *storage.Tx, c *effects, o *storage.Order, p config.Product, b batch,
	atts []*storage.Attempt, pl *plan) (wait, fail string, err error) {
	bad := 0
	for _, a := range atts {
		switch {
		case a.State == storage.AttemptBad:
			bad++
		case a.State == storage.AttemptFailed && a.Reason == suppliers.ReasonInvalidAccount:
			return "", suppliers.ReasonInvalidAccount, nil // the buyer's account: no supplier will take it
		}
	}
	if bad >= maxBadPerBatch {
		return "", ReasonDuplicateCard, nil
	}
	lastFail := ""
	for _, src := range e.orderSources(p, atts) {
		typ := e.supplierTypes[src.Supplier]
		if typ == config.SupplierStock {
			cards, err := tx.TakeStock(o.SKU, b.quantity)
			if err == nil {
				o.Attempts = append(o.Attempts, storage.Attempt{No: attemptNo(o.ID, b.index), Supplier: src.Supplier,
					Batch: b.index, Quantity: b.quantity, Units: b.quantity, State: storage.AttemptSucceeded,
					SentAt: c.now, EndedAt: c.now, Cards: cards})
				if level := tx.StockLevel(o.SKU); level < p.LowStock {
					return "", "", c.alert(tx, storage.Alert{Key: string(alert.LowStock) + ":" + o.SKU, Type: alert.LowStock,
						SKU: o.SKU, Count: level})
				}
				return "", "", nil
			}
			if !errors.Is(err, storage.ErrStockEmpty) {
				return "", "", err
			}
			wait = moreUrgent(wait, ReasonOutOfStock)
			continue
		}
		if reason, final := ruledOut(atts, src.Supplier, c.now); reason != "" {
			if final {
				lastFail = reason
			} else {
				wait = moreUrgent(wait, reason)
			}
			continue
		}
		if tx.Paused("supplier:"+src.Supplier) || e.health.Down(src.Supplier) {
			wait = moreUrgent(wait, ReasonSupplierUnavailable)
			continue
		}
		if e.overCost(src) {
			lastFail = suppliers.ReasonOverCost
			continue
		}
		o.Attempts = append(o.Attempts, storage.Attempt{No: attemptNo(o.ID, b.index), Supplier: src.Supplier,
			Item: src.Item, Batch: b.index, Quantity: b.quantity, Units: b.quantity * max(src.Units, 1),
			State: storage.AttemptSending, SentAt: c.now})
		pl.sends = append(pl.sends, o.Attempts[len(o.Attempts)-1].No)
		return "", "", nil
	}
	if wait != "" {
		return wait, "", nil
	}
	if lastFail == "" {
		lastFail = ReasonNoSource
	}
	return "", lastFail, nil
}

// orderSources lists a product's sources for a batch: by priority, but
// sources that sent known cards for this batch, or never created its
// purchase, go last ("next source first"). Neither rules a source out: a
// supplier that lost a purchase has not said anything about the goods, so
// with no other source the batch is bought there again.
func (e *Engine) orderSources(p config.Product, atts []*storage.Attempt) []config.Source {
	bad := map[string]int{}
	for _, a := range atts {
		if a.State == storage.AttemptBad || a.State == storage.AttemptLost {
			bad[a.Supplier]++
		}
	}
	out := e.health.Rank(slices.Clone(p.Sources))
	slices.SortStableFunc(out, func(x, y config.Source) int { return bad[x.Supplier] - bad[y.Supplier] })
	return out
}

// passing are the failures that go away by themselves (suppliers restock,
// come back up, get their balance topped up): they rule a supplier out for
// a while, and the order waits with the reason shown.
var passing = map[string]string{
	suppliers.ReasonOutOfStock: ReasonOutOfStock,
	ReasonSupplierUnavailable:  ReasonSupplierUnavailable,
	suppliers.ReasonBalance:    ReasonSupplierUnavailable,
}

// ruledOut says whether earlier attempts of this batch rule a supplier out:
// for good after a definite failure, or for a while after a passing one.
func ruledOut(atts []*storage.Attempt, supplier string, now time.Time) (reason string, final bool) {
	for _, a := range atts {
		if a.Supplier != supplier {
			continue
		}
		if a.State != storage.AttemptFailed {
			continue
		}
		if wait, temporary := passing[a.Reason]; temporary {
			if now.Sub(a.EndedAt) < oosRetry {
				reason = wait
			}
			continue
		}
		return a.Reason, true
	}
	return reason, false
}

// overCost reports a source whose known unit price is above its max_cost.
func (e *Engine) overCost(src config.Source) bool {
	cost := e.unitCosts[src.Supplier]
	return src.MaxCost > 0 && cost > 0 && cost*money.Amount(max(src.Units, 1)) > src.MaxCost
}

// attemptNo is a new purchase number: "CF<order>-<batch>-<random>". It is
// unique even across a database restored from backup (the random part), and
// tells a supplier callback which order it is about.
func attemptNo(orderID uint64, b int) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("CF%d-%d-%s", orderID, b, hex.EncodeToString(r[:]))
}

// wait keeps an order pending until a source can serve it, telling the
// storefront (order.delayed, once per cause) and, for stock, the operators
// (alert). A wait lasts from its start until the order gets its goods or
// fails, through every look and purchase in between: when it passes
// stock_wait the order fails.
func (e *Engine) wait(tx *storage.Tx, c *effects, o *storage.Order, pl *plan, p config.Product, reason string) error {
	if !o.WaitUntil.IsZero() && !c.now.Before(o.WaitUntil) {
		return e.failOrder(tx, c, o, reason)
	}
	if e.hasRemoteSource(p) || reason == ReasonPaused {
		pl.recheckAt = c.now.Add(recheckEvery)
	}
	if reason == ReasonOutOfStock && e.hasStockSource(p) {
		pl.waitSKU = o.SKU
	}
	if o.WaitUntil.IsZero() {
		o.WaitUntil = c.now.Add(e.stockWait)
	}
	pl.waitUntil = o.WaitUntil
	if o.Status == storage.StatusPending && o.Reason == reason {
		return nil // already waiting for this: nothing new to say
	}
	c.move(o, storage.StatusPending, reason, storage.System)
	if err := c.delayed(tx, o, reason); err != nil {
		return err
	}
	if reason == ReasonOutOfStock {
		return c.alert(tx, storage.Alert{Key: string(alert.OutOfStock) + ":" + o.SKU, Type: alert.OutOfStock, SKU: o.SKU,
			OrderID: o.ID, Count: tx.StockLevel(o.SKU)})
	}
	return nil
}

func (e *Engine) hasRemoteSource(p config.Product) bool {
	for _, s := range p.Sources {
		if t := e.supplierTypes[s.Supplier]; t != config.SupplierStock {
			return true
		}
	}
	return false
}
