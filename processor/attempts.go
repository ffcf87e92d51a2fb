package processor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/report"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Query pacing for attempts without an answer: quick at first (card orders
// usually finish within seconds), then slower, never slower than maxPoll.
const (
	maxPoll      = 5 * time.Minute
	supplierConc = 64 // supplier requests in flight at once
)

func pollDelay(queries int) time.Duration {
	d := time.Second << min(queries, 9)
	return min(d, maxPoll)
}

// afterCommit acts on a plan once its transaction is durable: submits the new
// attempts, schedules queries and re-looks, registers stock waits.
func (e *Engine) afterCommit(id uint64, pl *plan) {
	for _, attemptNo := range pl.sends {
		e.goSupplier(id, attemptNo, func(ctx context.Context, done func()) { e.submit(ctx, id, attemptNo, done) })
	}
	for _, q := range pl.queries {
		e.timers.at(q.at, id, q.attemptNo)
	}
	if !pl.recheckAt.IsZero() {
		e.timers.at(pl.recheckAt, id, "")
	}
	if pl.waitSKU != "" && !e.waits.wait(pl.waitSKU, id, pl.waitUntil, pl.seen) {
		e.queue.push(id) // stock arrived while we looked: look again
	}
}

// goSupplier queues a supplier request about one attempt for the request
// pool (supplierConc goroutines), so that slow suppliers never hold up
// workers and a surge never turns into one goroutine per purchase. At most
// one request per attempt is in flight: a callback hint arriving while the
// purchase is still being sent must not send it again. A wake-up that finds
// a request in flight is kept and acted on when that request ends.
func (e *Engine) goSupplier(id uint64, attemptNo string, fn func(ctx context.Context, done func())) {
	if !e.inFlight.start(attemptNo) {
		return
	}
	done := sync.OnceFunc(func() {
		if e.inFlight.end(attemptNo) {
			e.timers.at(e.now(), id, attemptNo) // asked again meanwhile: look now
		}
	})
	e.requests.push(func(ctx context.Context) {
		defer done()
		fn(ctx, done)
	})
}

// inFlight is the attempts with a supplier request in flight, each with
// whether it was asked for again meanwhile.
type inFlight struct {
	mu    sync.Mutex
	again map[string]bool
}

// start marks attemptNo in flight, or, when it already is, notes that it
// is wanted again and reports false.
func (f *inFlight) start(attemptNo string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, busy := f.again[attemptNo]; busy {
		f.again[attemptNo] = true
		return false
	}
	f.again[attemptNo] = false
	return true
}

// end ends attemptNo's request and reports whether it was wanted again.
func (f *inFlight) end(attemptNo string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	again := f.again[attemptNo]
	delete(f.again, attemptNo)
	return again
}

// requestPool runs queued supplier requests on a fixed set of goroutines.
type requestPool struct {
	mu     sync.Mutex
	cond   *sync.Cond
	jobs   []func(context.Context)
	closed bool
}

func newRequestPool() *requestPool {
	p := &requestPool{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *requestPool) push(job func(context.Context)) {
	p.mu.Lock()
	p.jobs = append(p.jobs, job)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *requestPool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.jobs)
}

// run serves jobs until ctx ends; jobs still queued then are dropped (the
// attempts they were about are in the store and are resumed on restart).
func (p *requestPool) run(ctx context.Context) {
	for {
		p.mu.Lock()
		for len(p.jobs) == 0 && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		job := p.jobs[0]
		p.jobs[0] = nil
		p.jobs = p.jobs[1:]
		p.mu.Unlock()
		job(ctx)
	}
}

func (p *requestPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
}

// attempt finds an attempt of an order by its number.
func attempt(o *storage.Order, attemptNo string) *storage.Attempt {
	for i := range o.Attempts {
		if o.Attempts[i].No == attemptNo {
			return &o.Attempts[i]
		}
	}
	return nil
}

// submit sends a stored attempt to its supplier and records the answer;
// record calls done once the answer is durable, so that what it leads to (a
// resubmit, a query) may go out at once and nothing goes out before.
func (e *Engine) submit(ctx context.Context, id uint64, attemptNo string, done func()) {
	o, err := e.Order(id)
	if err != nil {
		e.log.Error().Err(err).Uint64("order_id", id).Msg("read order for submit")
		return
	}
	a := attempt(o, attemptNo)
	if a == nil || a.State != storage.AttemptSending || !e.mine(o) {
		return
	}
	sup := e.sources[a.Supplier]
	if sup == nil {
		e.record(id, attemptNo, suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonConfig,
			Detail: "supplier not configured"}, done)
		return
	}
	p := e.products[o.SKU]
	req := suppliers.Order{No: attemptNo, Item: a.Item, Kind: p.Kind, Quantity: a.Units, Account: o.Account, Extra: o.Extra}
	if src, ok := sourceOf(p, a.Supplier); ok && src.MaxCost > 0 {
		req.MaxUnitCost = src.MaxCost / money.Amount(max(src.Units, 1))
	}
	rctx, cancel := context.WithTimeout(ctx, e.timeouts[a.Supplier])
	start := time.Now()
	res, sent := e.health.Call(a.Supplier, func() suppliers.Result { return sup.Submit(rctx, req) })
	cancel()
	e.metrics.supplierCall(a.Supplier, "submit", res, sent, time.Since(start))
	if ctx.Err() != nil {
		return // shutting down: the attempt stays "sending" and is queried after the restart
	}
	if !sent {
		// The supplier was marked down between routing and sending: nothing
		// left our side. The attempt stays "sending" and goes out once the
		// supplier is probed again.
		e.timers.at(e.now().Add(e.health.Probe(a.Supplier)/2+time.Second), id, attemptNo)
		return
	}
	e.log.Debug().Uint64("order_id", id).Str("supplier", a.Supplier).Str("attempt_no", attemptNo).Str("result", res.Status.String()).
		Str("detail", res.Detail).Msg("supplier submit")
	e.record(id, attemptNo, res, done)
}

// query asks a supplier about an attempt and records the answer. An attempt
// still "sending" here was never sent (its supplier was marked down): it is
// sent now.
func (e *Engine) query(ctx context.Context, id uint64, attemptNo string, done func()) {
	_, hinted := e.hints.LoadAndDelete(attemptNo)
	o, err := e.Order(id)
	if err != nil {
		return
	}
	a := attempt(o, attemptNo)
	if a == nil || !a.State.InFlight() || !e.mine(o) {
		return
	}
	if a.State == storage.AttemptSending {
		e.submit(ctx, id, attemptNo, done)
		return
	}
	if !hinted && a.NextAt.After(e.now()) {
		// A wake-up planned from an older look at the order (the after-commit
		// work of two writes may run in either order) came before the time
		// the last answer set: ask then, at the supplier's pace, not twice.
		e.timers.at(a.NextAt, id, attemptNo)
		return
	}
	sup := e.sources[a.Supplier]
	if sup == nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, e.timeouts[a.Supplier])
	start := time.Now()
	res, sent := e.health.Call(a.Supplier, func() suppliers.Result { return sup.Query(rctx, attemptNo) })
	cancel()
	e.metrics.supplierCall(a.Supplier, "query", res, sent, time.Since(start))
	if ctx.Err() != nil {
		return
	}
	if !sent { // the supplier is marked down: ask again once its probe is due, without counting a query
		e.timers.at(e.now().Add(e.health.Probe(a.Supplier)/2+time.Second), id, attemptNo)
		return
	}
	e.record(id, attemptNo, res, done)
}

// record applies a supplier's answer to its attempt, then moves the order on
// in the same transaction. Answers are idempotent: an attempt that already
// ended ignores late ones (a callback and a poll may both report success).
// done ends the attempt's request once the answer is durable (or could not
// be written), before what it leads to is sent: until then a wake-up
// (a supplier's callback, a planned query) would read the attempt as it was
// before the answer, and ask again or send the purchase again.
func (e *Engine) record(id uint64, attemptNo string, res suppliers.Result, done func()) {
	defer done() // also on the early returns; a second call does nothing
	// Seal cards before the write: crypto stays out of the writer.
	var sealed []storage.SealedCard
	for _, card := range res.Cards {
		sc, err := e.store.Vault().Seal(card)
		if err != nil {
			e.log.Error().Err(err).Msg("seal supplier card")
			return
		}
		sealed = append(sealed, sc)
	}
	var pl plan
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		pl = plan{}
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		a := attempt(o, attemptNo)
		if a == nil || !a.State.InFlight() || !e.mine(o) {
			return nil // ended already, or another process works on it now and asks itself
		}
		pl.seen = e.waits.current(o.SKU)
		prev := a.State
		e.applyResult(o, a, res, sealed, c.now, &pl)
		report.CountAttempt(tx, c.now, a, prev, e.supplierTypes[a.Supplier] != config.SupplierStock)
		if o.Status == storage.StatusPending || o.Status == storage.StatusProcessing {
			if err := e.advance(tx, c, o, &pl); err != nil {
				return err
			}
		}
		return tx.PutOrder(o)
	})
	done()
	if err != nil {
		e.log.Error().Err(err).Uint64("order_id", id).Str("attempt_no", attemptNo).Msg("record supplier answer")
		e.timers.at(e.now().Add(5*time.Second), id, attemptNo) // try the question again
		return
	}
	e.afterCommit(id, &pl)
}

// applyResult moves one attempt by a supplier's answer.
func (e *Engine) applyResult(o *storage.Order, a *storage.Attempt, res suppliers.Result, sealed []storage.SealedCard,
	now time.Time, pl *plan) {
	a.Detail = res.Detail
	if res.SupplierOrderID != "" {
		a.SupplierID = res.SupplierOrderID
	}
	if a.State == storage.AttemptVerifying {
		e.applyVerification(a, res, sealed, now, pl)
		return
	}
	switch res.Status {
	case suppliers.StatusSucceeded:
		a.State, a.Cards, a.Cost, a.EndedAt, a.NextAt = storage.AttemptSucceeded, sealed, res.Cost, now, time.Time{}
		if e.health.Verifying(a.Supplier) && e.supplierTypes[a.Supplier] != config.SupplierStock {
			// Second verification: keep the goods, ask again before
			// trusting them.
			a.State, a.EndedAt = storage.AttemptVerifying, time.Time{}
			a.Queries++
			a.NextAt = now.Add(verifyDelay)
			pl.queries = append(pl.queries, dueQuery{attemptNo: a.No, at: a.NextAt})
		}
	case suppliers.StatusFailed:
		a.State, a.Reason, a.EndedAt, a.NextAt = storage.AttemptFailed, res.Reason, now, time.Time{}
	case suppliers.StatusNotFound:
		if now.Sub(a.SentAt) < e.graces[a.Supplier] {
			e.askLater(a, now, pl)
			break
		}
		// Proven never created: send it again under the same number (the
		// supplier dedupes on it), once, before the batch moves on.
		if a.Resubmits < maxResubmits {
			a.State, a.Resubmits, a.SentAt, a.NextAt = storage.AttemptSending, a.Resubmits+1, now, time.Time{}
			pl.sends = append(pl.sends, a.No)
			break
		}
		a.State, a.Reason, a.EndedAt, a.NextAt = storage.AttemptLost, "not_created", now, time.Time{}
	case suppliers.StatusPending:
		a.State = storage.AttemptPending
		e.askLater(a, now, pl)
	default: // unknown: never buy again, ask
		a.State = storage.AttemptUnknown
		e.askLater(a, now, pl)
	}
}

func (e *Engine) askLater(a *storage.Attempt, now time.Time, pl *plan) {
	if a.State == storage.AttemptSending {
		a.State = storage.AttemptUnknown
	}
	a.Queries++
	a.NextAt = now.Add(e.queryDelay(a.Supplier, a.Queries-1))
	pl.queries = append(pl.queries, dueQuery{attemptNo: a.No, at: a.NextAt})
}

// queryDelay is the wait before asking about an attempt again. A supplier
// that knows its own rhythm (Fulu: every 1-3 s, slowing to 30 s) sets it
// whether its last answer was "still working" or lost: a lost answer says
// nothing about the order, and doubling the wait on each one (the default
// for suppliers without a rhythm) left a purchase whose queries kept losing
// their answers unseen for up to 5 minutes, and its buyer waiting. A
// supplier that keeps failing is not asked harder for it: its unknown
// answers open its circuit, and then no query is sent until the probe.
func (e *Engine) queryDelay(supplier string, queries int) time.Duration {
	if p, ok := e.sources[supplier].(suppliers.Pacer); ok {
		return min(p.QueryBackoff(queries), maxPoll)
	}
	return pollDelay(queries)
}

// settle delivers an order whose batches all have their goods. Cards from a
// supplier are checked first: one whose fingerprint is already known (in
// stock or delivered, or twice in this order) is never delivered; its
// attempt is marked bad, the storefront is told of a delay, the operators
// hear which supplier did it, and the batch is bought again.
func (e *Engine) settle(tx *storage.Tx, c *effects, o *storage.Order, p config.Product, pl *plan) error {
	var (
		cards   []storage.SealedCard
		remote  []storage.SealedCard
		seen    = map[storage.Fingerprint]bool{}
		badAtts []*storage.Attempt
	)
	for _, b := range batchesOf(o, p) {
		atts := batchAttempts(o, b.index)
		i := slices.IndexFunc(atts, func(a *storage.Attempt) bool { return a.State == storage.AttemptSucceeded })
		a := atts[i]
		fromStock := e.supplierTypes[a.Supplier] == config.SupplierStock
		ok := p.Kind == config.KindDirect || len(a.Cards) == a.Units
		for _, sc := range a.Cards {
			if seen[sc.FP] {
				ok = false
			}
			seen[sc.FP] = true
			if !fromStock {
				if _, known := tx.Fingerprint(sc.FP); known {
					ok = false
				}
			}
		}
		if !ok {
			badAtts = append(badAtts, a)
			continue
		}
		cards = append(cards, a.Cards...)
		if !fromStock {
			remote = append(remote, a.Cards...)
		}
	}
	if len(badAtts) > 0 {
		for _, a := range badAtts {
			a.State, a.Reason = storage.AttemptBad, ReasonDuplicateCard
			if err := tx.AddBadCards(a.Supplier, 1); err != nil {
				return err
			}
			report.CountBadCard(tx, c.now, a.Supplier)
			if err := c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%s:%d", alert.DuplicateCard, a.Supplier, o.ID),
				Type: alert.DuplicateCard, OrderID: o.ID, SKU: o.SKU, Target: a.Supplier}); err != nil {
				return err
			}
		}
		if err := c.delayed(tx, o, ReasonDuplicateCard); err != nil {
			return err
		}
		return e.advance(tx, c, o, pl)
	}
	if held, err := e.holdVerified(tx, c, o); held || err != nil {
		return err
	}
	if err := tx.ClaimFingerprints(remote, o.ID); err != nil {
		return err
	}
	for i := range o.Attempts {
		o.Attempts[i].Cards = nil // the order holds them now; stored once
	}
	return e.deliver(tx, c, o, cards)
}

// Hint tells the engine that a supplier says an attempt has ended (its
// callback): the attempt is queried now rather than at its next poll, even
// when a request about it is in flight and the query waits for it. The
// callback may have reached any of the processes sharing the store: the
// hint goes to each, and the order's owner acts on it.
func (e *Engine) Hint(attemptNo string) { e.member.Publish(topicHint, attemptNo) }

// hint is a Hint that reached this process.
func (e *Engine) hint(attemptNo string) {
	id, ok := orderOfAttempt(attemptNo)
	if !ok {
		return
	}
	e.hints.Store(attemptNo, struct{}{})
	e.timers.at(e.now(), id, attemptNo)
}

// orderOfAttempt reads the order id out of an attempt number.
func orderOfAttempt(attemptNo string) (uint64, bool) {
	rest, ok := strings.CutPrefix(attemptNo, "CF")
	if !ok {
		return 0, false
	}
	idText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(idText, 10, 64)
	return id, err == nil
}

func sourceOf(p config.Product, supplier string) (config.Source, bool) {
	for _, s := range p.Sources {
		if s.Supplier == supplier {
			return s, true
		}
	}
	return config.Source{}, false
}
