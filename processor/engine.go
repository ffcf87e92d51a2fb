// Package processor is the order engine: it owns an order's lifecycle from
// intake (rules screen, idempotent accept) through fulfilment (own stock,
// routing among remote suppliers, purchases, queries of answers in doubt,
// verification, waiting for stock) to delivery, operator actions and
// recovery after a crash. What it uses but does not own sits beside it:
// processor/health (breakers, balances, scorecards), processor/outbox (every
// side effect carried at least once), processor/view (the storefront's view
// of an order), report (the counters) and rules (the intake rules). The
// order flow is drawn in docs/architecture.md.
package processor

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/cluster"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/periodic"
	"cardflow/processor/health"
	"cardflow/processor/outbox"
	"cardflow/report"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Options are the engine's dependencies and settings. cmd/cardflow fills them
// from the config; tests fill them directly.
type Options struct {
	Products    []config.Product
	Suppliers   []config.Supplier
	Storefronts []outbox.Storefront
	// Docking are the docking shops, by id, with their credit limits: an
	// order from one is charged to its prepaid balance at the product's
	// wholesale price (docs/docking.md).
	Docking map[string]money.Amount
	// DockingCallbacks send the callbacks of docking shops in their own
	// protocols, by storefront id.
	DockingCallbacks map[string]outbox.Deliverer
	Workers          int
	StockWait        time.Duration
	AutoRefund       []string // reasons refunded without a person

	Now        func() time.Time // injected clock; time.Now when nil
	Log        zerolog.Logger
	HTTPClient *http.Client // for callbacks; a 10 s client when nil

	// Sources are the remote suppliers by name (fulu, sim); own stock
	// needs none.
	Sources map[string]suppliers.Supplier
	// BreakerProbe, if set, overrides every supplier's breaker_probe
	// (tests).
	BreakerProbe time.Duration

	// Screen decides at intake whether an order is held for review or
	// refused. Nil lets every order through.
	Screen Screener
	// Alerts receives alert events from the outbox. Nil logs them.
	Alerts outbox.Deliverer
	// Mail, when set, mails order events to buyers whose contact is a
	// mail address, for the storefronts and events it lists
	// (docs/mail.md).
	Mail *outbox.Mail
	// Observe, when set, sees every committed transition (the live console
	// feed). It must not block.
	Observe func(Change)
	// Metrics, if set, receives the engine's Prometheus series.
	Metrics prometheus.Registerer
	// OutboxInMemory caps the outbox events held in memory; the rest wait
	// in the store. 0 means 10,000.
	OutboxInMemory int
	// Routing is config.RoutingPriority (or empty) or RoutingAdaptive:
	// sources reordered by their suppliers' scorecards.
	Routing string
	// VerifyHold puts orders whose cards passed second verification in
	// review instead of delivering them.
	VerifyHold bool
	// Cluster is this process among those sharing the store; nil: the one
	// process of a bbolt file (cluster.Single).
	Cluster cluster.Member
}

// Change is one committed transition, for observers.
type Change struct {
	OrderID    uint64
	SKU        string
	Storefront string // whose order: the demo's feed names a docking shop
	From       storage.Status
	To         storage.Status
	Reason     string
	Actor      storage.Actor
	At         time.Time
}

// Engine processes orders. Create it with New, then Start; Stop waits for
// in-flight work.
type Engine struct {
	store       *storage.Store
	log         zerolog.Logger
	now         func() time.Time
	products    map[string]config.Product
	storefronts map[string]outbox.Storefront
	docking     map[string]money.Amount // docking shops' credit limits
	// supplierTypes maps a supplier name to its type.
	supplierTypes map[string]string
	supplierNames []string // in config order
	stockWait     time.Duration
	autoRefund    map[string]bool
	workers       int
	observe       func(Change)
	mailing       mailing // the order events mailed, by storefront
	metrics       *metrics
	screen        Screener

	// member is this process among those sharing the store; node is its
	// id, the owner of the orders and events this process works on ("" on
	// a bbolt file: every order is its one process's).
	member cluster.Member
	node   string
	lostAt atomic.Int64 // when the store's database was lost (unix ns), 0 while it answers

	queue   *workQueue
	waiters moveWaiters // handlers waiting for an order to move (WaitFor)
	waits   *stockWaits
	outbox  *outbox.Outbox
	timers  *timers

	// Remote suppliers.
	sources    map[string]suppliers.Supplier
	health     *health.Health
	timeouts   map[string]time.Duration
	graces     map[string]time.Duration
	unitCosts  map[string]money.Amount
	requests   *requestPool
	supplierWG sync.WaitGroup
	inFlight   inFlight // attempts with a supplier request in flight
	hints      sync.Map // attempt numbers whose supplier said they ended: query before their time
	verifyHold bool
	runCtx     context.Context
	ready      chan struct{} // closed when recovery is done
	stopped    chan struct{}
	wg         sync.WaitGroup
	cancel     context.CancelFunc
}

// New builds an engine over an open store.
func New(store *storage.Store, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.StockWait <= 0 {
		opts.StockWait = 30 * time.Minute
	}
	if opts.Cluster == nil {
		opts.Cluster = cluster.Single()
	}
	store.SetNode(opts.Cluster.ID())
	e := &Engine{
		member:        opts.Cluster,
		node:          opts.Cluster.ID(),
		store:         store,
		log:           opts.Log.With().Str("component", "engine").Logger(),
		now:           opts.Now,
		products:      make(map[string]config.Product, len(opts.Products)),
		storefronts:   make(map[string]outbox.Storefront, len(opts.Storefronts)),
		docking:       opts.Docking,
		supplierTypes: make(map[string]string, len(opts.Suppliers)),
		stockWait:     opts.StockWait,
		autoRefund:    make(map[string]bool),
		inFlight:      inFlight{again: map[string]bool{}},
		workers:       opts.Workers,
		observe:       opts.Observe,
		screen:        opts.Screen,
		queue:         newWorkQueue(),
		waits:         newStockWaits(),
		ready:         make(chan struct{}),
		stopped:       make(chan struct{}),
		verifyHold:    opts.VerifyHold,
	}
	for _, p := range opts.Products {
		e.products[p.SKU] = p
	}
	for _, s := range opts.Storefronts {
		e.storefronts[s.ID] = s
	}
	e.sources, e.timeouts, e.graces, e.unitCosts = opts.Sources, map[string]time.Duration{}, map[string]time.Duration{}, map[string]money.Amount{}
	for _, s := range opts.Suppliers {
		e.supplierTypes[s.Name] = s.Type
		e.supplierNames = append(e.supplierNames, s.Name)
		e.timeouts[s.Name] = cmp.Or(s.Timeout.Std(), 10*time.Second)
		e.graces[s.Name] = cmp.Or(s.Grace.Std(), 10*time.Minute)
		e.unitCosts[s.Name] = s.UnitCost
	}
	e.health = health.New(store, health.Options{Suppliers: opts.Suppliers, Sources: opts.Sources,
		BreakerProbe: opts.BreakerProbe, Adaptive: opts.Routing == config.RoutingAdaptive, Now: opts.Now,
		Log: e.log, Write: e.healthWrite, MarkedUp: e.requeueWaiting, Publish: e.member.Publish})
	e.requests = newRequestPool()
	e.runCtx = context.Background()
	e.timers = newTimers(opts.Now, e.wakeUp)
	e.metrics = newMetrics(e, opts.Metrics)
	for _, r := range opts.AutoRefund {
		e.autoRefund[r] = true
	}
	e.mailing = mailingOf(opts.Mail)
	e.subscribe()
	e.outbox = outbox.New(store, outbox.Options{Now: opts.Now, Log: opts.Log, Storefronts: opts.Storefronts, Docking: opts.DockingCallbacks,
		HTTPClient: opts.HTTPClient, Alerts: opts.Alerts, InMemory: opts.OutboxInMemory, Mail: opts.Mail})
	return e
}

// Start recovers unfinished work from the store and starts the workers, the
// outbox and the stock-wait timer. It returns once recovery is done.
func (e *Engine) Start(ctx context.Context) error {
	ctx, e.cancel = context.WithCancel(ctx)
	e.runCtx = ctx
	if err := e.health.Load(); err != nil {
		e.cancel()
		return fmt.Errorf("load second verification: %w", err)
	}
	if err := e.recover(); err != nil {
		e.cancel()
		return fmt.Errorf("recover: %w", err)
	}
	e.store.OnAvailable(e.storageChanged)
	if err := e.outbox.Load(); err != nil {
		e.cancel()
		return fmt.Errorf("load outbox: %w", err)
	}
	if err := e.health.Refresh(); err != nil {
		e.cancel()
		return fmt.Errorf("supplier scorecards: %w", err)
	}
	for range e.workers {
		e.wg.Go(e.work)
	}
	e.wg.Go(func() { e.outbox.Run(ctx) })                               // with its backlog check
	e.wg.Go(func() { periodic.Every(ctx, time.Second, e.ExpireWaits) }) // tests call ExpireWaits with an injected clock
	e.wg.Go(func() { e.timers.run(ctx) })
	e.wg.Go(func() { e.flushLoop(ctx) })
	e.wg.Go(func() { e.health.Scores(ctx) })
	e.trim(0)
	e.wg.Go(func() { periodic.Every(ctx, trimCheck, func() { e.trim(trimAbove) }) })
	// What must run on one process only, when several share the store,
	// runs on the leader (on a bbolt file, the one process leads).
	e.wg.Go(func() { e.member.Lead(ctx, "supplier balances", e.health.Balances) })
	e.wg.Go(func() {
		e.member.Lead(ctx, "shop balances", func(ctx context.Context) { periodic.Every(ctx, shopCheckEvery, e.checkShopBalances) })
	})
	e.wg.Go(func() {
		e.member.Lead(ctx, "held orders", func(ctx context.Context) { periodic.Every(ctx, claimCheckEvery, e.ReclaimDue) })
	})
	e.wg.Go(func() { e.member.Lead(ctx, "takeover", e.takeOverDeparted) })
	for range supplierConc {
		e.supplierWG.Go(func() { e.requests.run(ctx) })
	}
	close(e.ready)
	return nil
}

// Available is nil while the store's database answers (see
// storage.Store.Available).
func (e *Engine) Available() error { return e.store.Available() }

// Ready is closed once recovery is done and work has started.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Stop stops taking work, lets in-flight orders and callbacks finish, and
// returns. Orders still queued stay pending in the store for the next start.
func (e *Engine) Stop() {
	select {
	case <-e.stopped:
		return
	default:
	}
	close(e.stopped)
	e.queue.close()
	e.requests.close()
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	e.supplierWG.Wait()
	if err := e.store.FlushBuyers(e.now()); err != nil { // a clean stop leaves nothing to recover
		e.log.Error().Err(err).Msg("flush buyer history")
	}
}

// flushLoop writes the buyer history's first sightings once a minute (see
// storage.Store.FlushBuyers).
func (e *Engine) flushLoop(ctx context.Context) {
	periodic.Every(ctx, time.Minute, e.flushBuyers)
	e.flushBuyers() // at shutdown, so the next start-up has almost no first sightings to look up
}

func (e *Engine) flushBuyers() {
	if err := e.store.FlushBuyers(e.now()); err != nil {
		e.log.Error().Err(err).Msg("flush buyer history")
	}
}

// The database pages read through the memory map are let go (see
// storage.Store.Trim) whenever more than trimAbove of them are resident,
// checked every trimCheck (a read of /proc/self/statm while under it).
// Under a backlog of callbacks each one reads an older order, and the
// kernel maps neighbouring pages on every fault: trimming every few seconds
// instead let the mapped pages alone grow by a hundred MB and more between
// two trims (docs/performance.md). Start trims once itself, whatever is
// resident: start-up has just read a day of buyer history.
const (
	trimCheck = 250 * time.Millisecond
	trimAbove = 16 << 20
)

func (e *Engine) trim(above int64) {
	n, err := e.store.Trim(above)
	switch {
	case err != nil:
		e.log.Warn().Err(err).Msg("trim mapped database pages")
	case n > above:
		e.log.Debug().Int64("bytes", n).Msg("trimmed mapped database pages")
	}
}

// storageChanged hears that the store's database was lost (err set) or
// answers again. Meanwhile every write failed and left its order where it
// was: once it answers, every order still being worked on is looked at
// again.
func (e *Engine) storageChanged(err error) {
	if err != nil {
		e.lostAt.Store(e.now().UnixNano())
		e.log.Error().Err(err).Msg("storage unavailable: orders are refused with 503 and work waits until it answers")
		return
	}
	e.log.Info().Msg("storage answers again: resuming work")
	go e.resume() // not in wg: the store's watch may call this while Stop waits
}

// resume looks again at every order still being worked on: pending ones go
// back in the queue, and every purchase in flight is asked after (a query
// of one already planned only comes sooner, and asks at the supplier's
// pace).
func (e *Engine) resume() {
	select {
	case <-e.stopped:
		return
	default:
	}
	e.tellOutage()
	e.requeueWaiting()
	var processing []uint64
	_ = e.store.View(func(tx *storage.Tx) error {
		processing = tx.OpenOrders(storage.StatusProcessing, 0)
		return nil
	})
	for _, id := range processing {
		o, err := e.Order(id)
		if err != nil {
			continue
		}
		for _, a := range o.Attempts {
			if a.State.InFlight() {
				e.timers.at(a.NextAt, id, a.No)
			}
		}
	}
}

// tellOutage tells the operators of the outage just over: nothing could be
// stored while it lasted, an alert included, so it is raised now with when
// it began, and resolved with how long it lasted.
func (e *Engine) tellOutage() {
	lost := e.lostAt.Swap(0)
	if lost == 0 {
		return
	}
	since := time.Unix(0, lost)
	key := string(alert.StorageUnavailable) + ":" + e.node
	err := e.RaiseAlert(storage.Alert{Key: key, Type: alert.StorageUnavailable, Detail: since.UTC().Format("2006-01-02 15:04:05 UTC")})
	if err == nil {
		err = e.RaiseAlert(storage.Alert{Key: key, Type: alert.StorageUnavailable, Resolved: true,
			Detail: e.now().Sub(since).Round(time.Second).String()})
	}
	if err != nil {
		e.log.Error().Err(err).Msg("tell operators of the storage outage")
	}
}

// requeueWaiting puts every pending order back in the work queue.
func (e *Engine) requeueWaiting() {
	var ids []uint64
	_ = e.store.View(func(tx *storage.Tx) error {
		ids = tx.OpenOrders(storage.StatusPending, 0)
		if e.node == "" {
			return nil // every order is this process's
		}
		mine := ids[:0]
		for _, id := range ids {
			if o, err := tx.Order(id); err == nil && e.mine(o) {
				mine = append(mine, id)
			}
		}
		ids = mine
		return nil
	})
	for _, id := range ids {
		e.queue.push(id)
	}
}

// healthWrite is a write of supplier health's (an alert, an audit entry, a
// balance reading) through commit, so its alerts reach the operators.
func (e *Engine) healthWrite(fn func(tx *storage.Tx, now time.Time, raise func(storage.Alert) error) error) error {
	return e.commit(func(tx *storage.Tx, c *effects) error {
		return fn(tx, c.now, func(a storage.Alert) error { return c.alert(tx, a) })
	})
}

// wakeUp is what a timer does: query an attempt, or look at an order again.
func (e *Engine) wakeUp(id uint64, attemptNo string) {
	if attemptNo == "" {
		e.queue.push(id)
		return
	}
	e.goSupplier(id, attemptNo, func(ctx context.Context, done func()) { e.query(ctx, id, attemptNo, done) })
}

// Store returns the engine's store (for the admin API's backup and stock reads).
func (e *Engine) Store() *storage.Store { return e.store }

// Backup writes a consistent copy of the database (see storage.Store.Backup).
func (e *Engine) Backup(w io.Writer, size func(int64)) (int64, error) { return e.store.Backup(w, size) }

// Product returns a configured product.
func (e *Engine) Product(sku string) (config.Product, bool) {
	p, ok := e.products[sku]
	return p, ok
}

// Backlog is the number of outbox events not yet acknowledged.
func (e *Engine) Backlog() int { return e.outbox.Backlog() }

// QueueLen is the number of orders waiting for a worker.
func (e *Engine) QueueLen() int { return e.queue.len() }

// commit runs fn in a write transaction and, once it is durable, reports its
// transitions to the observer and hands its new events to the outbox. It is
// the one door through which the engine changes state, so that "durable
// before the side effect" holds everywhere.
func (e *Engine) commit(fn func(tx *storage.Tx, c *effects) error) error {
	return e.commitIntake(nil, fn)
}

// commitIntake is commit for a write that stores the new order intake names
// (storage.UpdateIntake); nil: any other write.
func (e *Engine) commitIntake(intake *storage.Order, fn func(tx *storage.Tx, c *effects) error) error {
	var c effects
	err := e.store.UpdateIntake(intake, func(tx *storage.Tx) error {
		c = effects{now: e.now(), tx: tx, mailing: e.mailing, node: e.node} // fn may run again: start clean each time
		if err := fn(tx, &c); err != nil {
			return err
		}
		for _, ev := range c.events {
			if ev.Kind == outbox.KindCallback || ev.Kind == outbox.KindMail {
				ev.Written = tx.Written(ev.OrderID) // the outbox renders it without reading it back
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range c.ruleHits {
		e.metrics.ruleHit(h)
	}
	for _, ch := range c.changes {
		e.metrics.observe(ch, c.created[ch.OrderID])
		if e.observe != nil {
			e.observe(ch)
		}
	}
	e.waiters.wake(c.changes)
	if len(c.events) > 0 {
		e.outbox.Add(c.events)
	}
	return nil
}

// effects collects what a write did, to act on after its commit.
type effects struct {
	now      time.Time
	node     string // this process: the owner of what it moves on and the events it stores
	tx       *storage.Tx
	mailing  mailing
	changes  []Change
	events   []*storage.Event
	created  map[uint64]time.Time // when each moved order was accepted, for the delivery histogram
	ruleHits []ruleHit
}

// move changes an order's status inside a transaction and records what the
// commit must announce.
func (c *effects) move(o *storage.Order, to storage.Status, reason string, actor storage.Actor) {
	c.changes = append(c.changes, Change{OrderID: o.ID, SKU: o.SKU, Storefront: o.Storefront, From: o.Status, To: to, Reason: reason, Actor: actor, At: c.now})
	report.CountMove(c.tx, c.now, o, to, reason)
	if to == storage.StatusDelivered {
		if c.created == nil {
			c.created = map[uint64]time.Time{}
		}
		c.created[o.ID] = o.CreatedAt
	}
	if to != storage.StatusPending && to != storage.StatusProcessing {
		o.DelayCauses = nil // the storefront hears of this state: a later delay is news again
	} else {
		// Whoever moves an order into the worked states works on it: the
		// process that took it, or an operator's process that approved,
		// retried or reissued it (docs/cluster.md).
		o.Owner = c.node
	}
	o.Move(to, reason, actor, c.now)
}

// event queues an outbox event in the transaction.
func (c *effects) event(tx *storage.Tx, ev *storage.Event) error {
	ev.CreatedAt, ev.NextAt = c.now, c.now
	if err := tx.Outbox().Add(ev); err != nil {
		return err
	}
	c.events = append(c.events, ev)
	return nil
}

// callback queues the storefront callback of an order's current state (a
// delay goes through delayed), and the buyer's mail of it when the
// storefront mails that event and the buyer left a mail address.
func (c *effects) callback(tx *storage.Tx, o *storage.Order, typ string) error {
	return c.notify(tx, o, typ, 0)
}

// notify queues an order event (about claim claimID, when not 0) for the
// storefront and, when the storefront mails that event to a buyer with a
// mail address, the buyer's mail in the same write.
func (c *effects) notify(tx *storage.Tx, o *storage.Order, typ string, claimID uint64) error {
	ev := storage.Event{
		Kind: outbox.KindCallback, Type: typ, OrderID: o.ID, Target: o.Storefront, ClaimID: claimID,
		Status: o.Status, Reason: o.Reason, UpdatedAt: o.UpdatedAt, DeliveredAt: o.DeliveredAt,
		CardSet: o.CardSet(),
	}
	if err := c.event(tx, &ev); err != nil {
		return err
	}
	if !c.mailing.mails(o, typ) {
		return nil
	}
	m := ev
	m.Kind = outbox.KindMail
	return c.event(tx, &m)
}

// delayed tells the storefront that an order is delayed by cause (a wait
// reason, or duplicate_card for a rebuy), once per cause: an order looked at
// again while it waits for the same thing has nothing new to say. The causes
// told are kept on the order, written with it in the same transaction, so a
// restart does not tell them again; a move to any other state (which has its
// own callback) forgets them.
func (c *effects) delayed(tx *storage.Tx, o *storage.Order, cause string) error {
	if slices.Contains(o.DelayCauses, cause) {
		return nil
	}
	if err := c.callback(tx, o, CallbackDelayed); err != nil {
		return err
	}
	o.DelayCauses = append(o.DelayCauses, cause)
	return nil
}

// refunded records a refund in the buyer's history (buyer.refunds_30d).
func (c *effects) refunded(tx *storage.Tx, o *storage.Order) error {
	if err := tx.RecordBuyerRefund(storage.BuyerIdentities(o), c.now); err != nil {
		return err
	}
	return c.giveBack(tx, o)
}

// RaiseAlert raises or resolves an alert from outside the order flow (a
// refused config reload, say).
func (e *Engine) RaiseAlert(a storage.Alert) error {
	return e.commit(func(tx *storage.Tx, c *effects) error { return c.alert(tx, a) })
}

// alert raises or resolves an alert for the operators (see
// outbox.QueueAlert).
func (c *effects) alert(tx *storage.Tx, a storage.Alert) error {
	ev, err := outbox.QueueAlert(tx, a, c.now)
	if ev != nil {
		c.events = append(c.events, ev)
	}
	return err
}
