// Package outbox carries every side effect of an order's change to its
// receiver at least once: the events a write stored (storefront callbacks,
// alerts for the operators) are delivered after the commit, in order per
// lane, retried with backoff until acknowledged, and survive restarts. It
// holds the dispatcher, the signed HTTP callback sender and the alerts the
// outbox raises about itself (callbacks failing or redirected, a backlog).
package outbox

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/internal/outbound"
	"cardflow/internal/periodic"
	"cardflow/storage"
)

// Event kinds, each with its Deliverer.
const (
	KindCallback = "callback"
	KindAlert    = "alert"
	KindMail     = "mail" // a buyer's mail (mails.go)
)

// Deliverer hands one outbox event to its receiver. A nil error is the
// receiver's acknowledgement; anything else is retried later.
type Deliverer interface {
	Deliver(ctx context.Context, ev *storage.Event) error
}

var errNoHandler = errors.New("no handler for this event kind")

// NotBefore is what a Deliverer answers for an event it must not send yet
// (a Dujiao-Next shop's first callback waits until its order's answer has
// surely arrived): the event is tried again at At, and the wait is no
// failed attempt.
type NotBefore struct{ At time.Time }

func (n *NotBefore) Error() string { return "not before " + n.At.UTC().Format(time.RFC3339Nano) }

// Refused is what a Deliverer answers for an event its receiver refused
// for good (a mail server's 5xx to one buyer's address): the event is
// acknowledged, never sent again, and Alert raised in the same write.
type Refused struct {
	Err   error
	Alert storage.Alert
}

func (r *Refused) Error() string { return r.Err.Error() }
func (r *Refused) Unwrap() error { return r.Err }

// Troubled is a failed attempt, retried with backoff like any, whose
// receiver's trouble is one problem for operators: Alert is raised in the
// write that records the attempt (once: QueueAlert keeps one alert per
// key).
type Troubled struct {
	Err   error
	Alert storage.Alert
}

func (t *Troubled) Error() string { return t.Err.Error() }
func (t *Troubled) Unwrap() error { return t.Err }

// recoverer is a Deliverer whose trouble alert each acknowledged event
// resolves (resolving one that is not open does nothing).
type recoverer interface {
	Recovered() []storage.Alert
}

// Retry schedule: exponential from a second up to an hour apart, for ever;
// an alert is raised once an event has failed for alertAfter.
const (
	backoffMin  = time.Second
	backoffMax  = time.Hour
	alertAfter  = 24 * time.Hour
	concurrency = 64
)

// Outbox delivers stored events. Events of one lane (one order's
// callbacks, one order's mails, or all alerts) go strictly in sequence: the
// next is sent only after the previous was acknowledged. Different lanes go
// in parallel. Mails have a class of their own, with a few sends at once
// per mail server connection: a slow mail server never holds the sends that
// callbacks need.
//
// Each class holds at most its cap of events in memory (callbacks and
// alerts memCap, mails a fifth of it). A storefront that stops answering
// during a sale leaves millions of callbacks waiting; holding them all
// would exhaust memory, and after a restart load would do it again. Past
// its cap, a class's new events stay in the store only ("spilled") and are
// read back in sequence order as delivered ones make room. While anything
// of a class is spilled, every new event of the class is spilled too, so
// that no event overtakes an earlier one of its lane. Classes spill apart:
// mails piling up behind a mail server that is down never keep a callback
// out of memory.
type Outbox struct {
	store    *storage.Store
	log      zerolog.Logger
	now      func() time.Time
	handlers map[string]Deliverer

	mu      sync.Mutex
	lanes   map[laneKey]*lane
	classes []*class // each with its due lanes, its share of the sends and its memory
	stored  int      // events not yet acknowledged, in memory or not
	wake    chan struct{}

	loaded bool   // load has run: before, add leaves events to it
	floor  uint64 // events below this sequence number were counted by load
}

// defaultMemCap is how many outbox events the dispatcher holds in memory
// (a few hundred bytes each).
const defaultMemCap = 10_000

type laneKey struct {
	kind    string
	orderID uint64
}

type lane struct {
	key    laneKey
	cls    *class
	events []*storage.Event
	busy   bool // head is being delivered
	index  int  // in cls.due; -1 when not there
}

// class is a share of the dispatcher: the lanes of some kinds of event,
// with at most limit of them being sent at once and cap events in memory.
type class struct {
	kinds []string // empty: every kind no other class names
	due   laneHeap // lanes with an idle head, by the head's NextAt
	limit int
	busy  int

	cap       int
	pending   int // events in memory
	spilled   bool
	spillFrom uint64 // the lowest sequence number of the class that may be in the store only
	refilling bool
	// ackedDuringRefill holds events acknowledged while a refill read the
	// store, so that the refill does not bring them back.
	ackedDuringRefill map[uint64]bool
}

// Options are the outbox's receivers and settings.
type Options struct {
	Now func() time.Time // injected clock; time.Now when nil
	Log zerolog.Logger
	// Storefronts are the receivers of callbacks, by id.
	Storefronts []Storefront
	// Docking delivers the callbacks of docking shops, by storefront id,
	// in their own protocols.
	Docking map[string]Deliverer
	// HTTPClient sends callbacks; a 10 s client when nil. It never follows
	// a redirect (see internal/outbound).
	HTTPClient *http.Client
	// Alerts receives alert events. Nil logs them.
	Alerts Deliverer
	// Mail sends buyers' mails (mails.go); nil when mail is off, and any
	// mail event left from an earlier config waits.
	Mail *Mail
	// InMemory caps the events held in memory; the rest wait in the store.
	// 0 means defaultMemCap.
	InMemory int
}

// New builds the outbox over an open store. Nothing is sent before Load and
// Run.
func New(store *storage.Store, opts Options) *Outbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	memCap := opts.InMemory
	if memCap <= 0 {
		memCap = defaultMemCap
	}
	log := opts.Log.With().Str("component", "outbox").Logger()
	alerts := opts.Alerts
	if alerts == nil {
		alerts = logAlerts{log: opts.Log.With().Str("component", "engine").Logger()}
	}
	d := &Outbox{
		store: store, log: log, now: opts.Now,
		handlers: map[string]Deliverer{
			KindCallback: byStorefront{docking: opts.Docking, native: newCallbacks(store, opts.Storefronts, opts.HTTPClient, opts.Now)},
			KindAlert:    alerts,
		},
		classes: []*class{{limit: concurrency, cap: memCap}},
		lanes:   make(map[laneKey]*lane), wake: make(chan struct{}, 1),
	}
	if opts.Mail != nil {
		m := *opts.Mail
		m.store = store
		d.handlers[KindMail] = &m
		// Four sends per connection: while one holds the connection, the
		// others wait for it or record their acknowledgement, so that the
		// acknowledgements share commits.
		d.classes = append(d.classes, &class{kinds: []string{KindMail}, limit: 4 * max(1, m.Sender.Connections()), cap: max(1, memCap/5)})
	}
	return d
}

// classOf is the class that sends events of a kind.
func (d *Outbox) classOf(kind string) *class {
	for _, c := range d.classes[1:] {
		if slices.Contains(c.kinds, kind) {
			return c
		}
	}
	return d.classes[0]
}

// Load reads the unacknowledged events after a restart: the oldest of each
// class up to its cap into memory, the rest when there is room. It holds
// mu while it reads, so that add, which may already be called (the
// storefront listener is up before recovery ends), neither schedules an
// event Load read too nor misses one committed after load's snapshot.
func (d *Outbox) Load() error {
	d.mu.Lock()
	defer d.Kick()
	defer d.mu.Unlock()
	var total int
	var floor uint64
	owner := d.store.Node()
	err := d.store.View(func(tx *storage.Tx) error {
		total = tx.Outbox().CountOwned(owner)
		floor = tx.Outbox().LastSeq() + 1
		full := 0
		_, _, err := tx.Outbox().From(0, func(ev *storage.Event) bool {
			if ev.Owner != owner {
				return true // another process's to carry out
			}
			c := d.classOf(ev.Kind)
			switch {
			case c.spilled:
			case c.pending == c.cap:
				c.spilled, c.spillFrom = true, ev.Seq
				full++
			default:
				d.schedule(ev)
			}
			return full < len(d.classes) // every class full: the rest waits
		})
		return err
	})
	if err != nil {
		for _, c := range d.classes { // nothing was loaded
			c.due, c.pending, c.spilled = nil, 0, false
		}
		clear(d.lanes)
		return err
	}
	d.stored, d.floor, d.loaded = total, floor, true
	return nil
}

// Add schedules events committed to the store, in sequence order. Before
// Load it does nothing (Load reads them); events Load has counted are
// left alone.
func (d *Outbox) Add(events []*storage.Event) {
	d.mu.Lock()
	for _, ev := range events {
		if !d.loaded || ev.Seq < d.floor {
			continue
		}
		if d.inMemory(ev) {
			// A refill read it from the store before this call. (Had it
			// also been sent already, it is sent again: callbacks are
			// at least once, and carry event_id for that.)
			d.stored++
			continue
		}
		d.stored++
		if c := d.classOf(ev.Kind); c.spilled || c.pending >= c.cap {
			if !c.spilled || ev.Seq < c.spillFrom {
				c.spillFrom = ev.Seq
			}
			c.spilled = true
			continue
		}
		d.schedule(ev)
	}
	d.mu.Unlock()
	d.Kick()
}

// schedule puts an event in memory in its lane, in sequence order: at the
// end but for an adopted event (Adopt), which may be older than events of
// the lane this process added itself; the head being sent stays first.
// Call with mu held.
func (d *Outbox) schedule(ev *storage.Event) {
	k := laneKey{kind: ev.Kind, orderID: ev.OrderID}
	l := d.lanes[k]
	if l == nil {
		l = &lane{key: k, cls: d.classOf(ev.Kind), index: -1}
		d.lanes[k] = l
	}
	i := len(l.events)
	for i > 0 && l.events[i-1].Seq > ev.Seq && (i > 1 || !l.busy) {
		i--
	}
	l.events = slices.Insert(l.events, i, ev)
	if i == 0 && len(l.events) > 1 && l.index >= 0 {
		heap.Fix(&l.cls.due, l.index) // a new head, due at its own time
	}
	l.cls.pending++
	if len(l.events) == 1 && !l.busy {
		heap.Push(&l.cls.due, l)
	}
}

// inMemory reports whether an event is in its lane. Lanes are short (one
// order's callbacks), so a scan is cheap. Call with mu held.
func (d *Outbox) inMemory(ev *storage.Event) bool {
	l := d.lanes[laneKey{kind: ev.Kind, orderID: ev.OrderID}]
	if l == nil {
		return false
	}
	for _, e := range l.events {
		if e.Seq == ev.Seq {
			return true
		}
	}
	return false
}

// maybeRefill starts reading a class's spilled events back once half its
// memory is free. Call with mu held.
func (d *Outbox) maybeRefill() {
	for _, c := range d.classes {
		if !c.spilled || c.refilling || c.pending > c.cap/2 {
			continue
		}
		c.refilling = true
		c.ackedDuringRefill = map[uint64]bool{}
		from, room := c.spillFrom, c.cap-c.pending
		c.spillFrom = math.MaxUint64 // add lowers it again for what is spilled meanwhile
		go d.refill(c, from, room)
	}
}

// refill reads up to room spilled events of class c from sequence number
// from on, passing over the other classes' events.
func (d *Outbox) refill(c *class, from uint64, room int) {
	var events []*storage.Event
	var next uint64
	var end bool
	err := d.store.View(func(tx *storage.Tx) error {
		var err error
		next, end, err = tx.Outbox().From(from, func(ev *storage.Event) bool {
			if d.classOf(ev.Kind) != c || ev.Owner != d.store.Node() {
				return true
			}
			if len(events) == room {
				return false
			}
			events = append(events, ev)
			return true
		})
		return err
	})
	d.mu.Lock()
	defer d.Kick()
	defer d.mu.Unlock()
	c.refilling = false
	acked := c.ackedDuringRefill
	c.ackedDuringRefill = nil
	if err != nil {
		d.log.Error().Err(err).Msg("read spilled events; retrying")
		c.spillFrom = min(c.spillFrom, from)
		return
	}
	for _, ev := range events {
		if !acked[ev.Seq] && !d.inMemory(ev) {
			d.schedule(ev)
		}
	}
	if end && c.spillFrom == math.MaxUint64 {
		c.spilled = false
		return
	}
	c.spillFrom = min(c.spillFrom, next)
}

// Adopt takes on events of the store that this process now owns but did
// not add (a departed process's, handed over by the engine's takeover), in
// sequence order, as memory allows: each class reads them back from the
// lowest one on, as it reads events spilled for want of memory.
func (d *Outbox) Adopt(events []*storage.Event) {
	if len(events) == 0 {
		return
	}
	d.mu.Lock()
	for _, ev := range events {
		if d.inMemory(ev) {
			continue
		}
		d.stored++
		c := d.classOf(ev.Kind)
		if !c.spilled || ev.Seq < c.spillFrom {
			c.spillFrom = ev.Seq
		}
		c.spilled = true
	}
	d.mu.Unlock()
	d.Kick()
}

// Kick makes the dispatcher look at its schedule now, as after the clock
// it was given has moved (tests move theirs by hand).
func (d *Outbox) Kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Backlog is the number of events not yet acknowledged, in memory or only
// in the store.
func (d *Outbox) Backlog() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stored
}

// InMemory is how many events are held in memory: at most the cap
// (Options.InMemory); the rest wait in the store.
func (d *Outbox) InMemory() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.classes {
		n += c.pending
	}
	return n
}

// oldest is when the oldest event in memory was created (zero if none).
func (d *Outbox) oldest() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var t time.Time
	for _, l := range d.lanes {
		if len(l.events) > 0 && (t.IsZero() || l.events[0].CreatedAt.Before(t)) {
			t = l.events[0].CreatedAt
		}
	}
	return t
}

// Run sends due events, and checks the backlog every backlogEvery, until
// ctx ends; then it waits for sends in flight.
func (d *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { periodic.Every(ctx, backlogEvery, d.checkBacklog) })
	d.dispatch(ctx)
}

// dispatch sends due events until ctx ends, then waits for sends in flight.
func (d *Outbox) dispatch(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		d.maybeRefill()
		wait := time.Hour
		for _, c := range d.classes {
			if c.spilled {
				wait = time.Second // a failed refill is tried again
			}
		}
		next, w := d.nextDue()
		wait = min(wait, w)
		d.mu.Unlock()
		if next != nil {
			if ctx.Err() != nil {
				d.release(next)
				return
			}
			wg.Go(func() {
				defer d.done(next.cls)
				d.send(ctx, next)
			})
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// nextDue takes the lane whose head is due first among the classes with a
// send to spare, marking it busy; else it says how long until the first
// head is due. Call with mu held.
func (d *Outbox) nextDue() (*lane, time.Duration) {
	var pick *class
	for _, c := range d.classes {
		if c.busy < c.limit && c.due.Len() > 0 && (pick == nil || c.due.headBefore(pick.due)) {
			pick = c
		}
	}
	if pick == nil {
		return nil, time.Hour
	}
	if w := pick.due[0].events[0].NextAt.Sub(d.now()); w > 0 {
		return nil, w
	}
	l := heap.Pop(&pick.due).(*lane)
	l.busy = true
	pick.busy++
	return l, 0
}

// done gives back a send of a class.
func (d *Outbox) done(c *class) {
	d.mu.Lock()
	c.busy--
	d.mu.Unlock()
	d.Kick()
}

// release puts a lane back without sending (shutdown).
func (d *Outbox) release(l *lane) {
	d.mu.Lock()
	l.busy = false
	heap.Push(&l.cls.due, l)
	d.mu.Unlock()
}

// send delivers a lane's head event and records the result durably.
func (d *Outbox) send(ctx context.Context, l *lane) {
	d.mu.Lock()
	ev := l.events[0]
	d.mu.Unlock()
	h := d.handlers[ev.Kind]
	var err error
	if h == nil {
		err = errNoHandler
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = h.Deliver(sendCtx, ev)
		cancel()
	}
	d.mu.Lock()
	ev.Written = nil // tried: a later attempt reads the order as it is then, and memory does not keep it
	d.mu.Unlock()
	if ctx.Err() != nil && err != nil {
		d.release(l) // shutting down: the event stays in the store as it was
		return
	}
	if wait := (*NotBefore)(nil); errors.As(err, &wait) {
		d.mu.Lock()
		ev.NextAt = wait.At // in memory only: after a restart it is due anyway
		d.requeue(l)
		d.mu.Unlock()
		d.Kick()
		return
	}
	var refused *Refused
	if err == nil || errors.As(err, &refused) {
		var alerts []storage.Alert
		if r, ok := h.(recoverer); ok {
			alerts = append(alerts, r.Recovered()...)
		}
		if refused != nil {
			d.log.Warn().Err(refused.Err).Uint64("event_seq", ev.Seq).Str("type", ev.Type).Uint64("order_id", ev.OrderID).
				Str("target", ev.Target).Msg("event refused for good; given up")
			alerts = append(alerts, refused.Alert)
		}
		var added []*storage.Event
		serr := d.store.Update(func(tx *storage.Tx) error {
			added = nil
			if err := tx.Outbox().Delete(ev.Seq); err != nil {
				return err
			}
			for _, a := range alerts {
				qe, err := QueueAlert(tx, a, d.now())
				if err != nil {
					return err
				}
				if qe != nil {
					added = append(added, qe)
				}
			}
			if !ev.Alerted {
				return nil
			}
			a, err := queueCallbackAlert(tx, ev, alert.CallbackFailing, d.now(), true, "")
			if a != nil {
				added = append(added, a)
			}
			return err
		})
		if serr != nil {
			d.log.Error().Err(serr).Uint64("event_seq", ev.Seq).Msg("acknowledge event failed")
			d.retryLater(l, ev, serr)
			return
		}
		d.mu.Lock()
		l.events[0] = nil
		l.events = l.events[1:]
		l.cls.pending--
		d.stored--
		if l.cls.refilling {
			l.cls.ackedDuringRefill[ev.Seq] = true
		}
		d.requeue(l)
		d.maybeRefill()
		d.mu.Unlock()
		if len(added) > 0 {
			d.Add(added)
		}
		d.Kick()
		return
	}
	d.retryLater(l, ev, err)
}

// retryLater records a failed attempt and schedules the next one.
func (d *Outbox) retryLater(l *lane, ev *storage.Event, cause error) {
	now := d.now()
	next := *ev
	next.Attempts++
	next.NextAt = now.Add(backoff(next.Attempts))
	next.LastError = truncate(cause.Error(), 200)
	// A redirect is a misconfigured callback_url, not a passing fault: every
	// retry will meet it again, so operators hear of it at once.
	redirected := outbound.IsRedirect(cause)
	raise := !next.Alerted && next.Kind == KindCallback && (redirected || now.Sub(next.CreatedAt) >= alertAfter)
	next.Alerted = next.Alerted || raise
	var troubled *Troubled
	errors.As(cause, &troubled)
	var added []*storage.Event
	err := d.store.Update(func(tx *storage.Tx) error {
		added = nil
		if err := tx.Outbox().Put(&next); err != nil {
			return err
		}
		if troubled != nil {
			a, err := QueueAlert(tx, troubled.Alert, now)
			if err != nil {
				return err
			}
			if a != nil {
				added = append(added, a)
			}
		}
		if !raise {
			return nil
		}
		typ := alert.CallbackFailing
		if redirected {
			typ = alert.CallbackRedirect
		}
		a, err := queueCallbackAlert(tx, ev, typ, now, false, next.LastError)
		if a != nil {
			added = append(added, a)
		}
		return err
	})
	d.log.Warn().Err(cause).Uint64("event_seq", ev.Seq).Str("type", ev.Type).Uint64("order_id", ev.OrderID).
		Int("attempts", next.Attempts).Time("next_at", next.NextAt).Msg("event delivery failed")
	d.mu.Lock()
	if err == nil {
		l.events[0] = &next
	} else {
		// Keep the in-memory schedule even if the store refused the update;
		// the stored copy is only behind on its attempt count.
		d.log.Error().Err(err).Uint64("event_seq", ev.Seq).Msg("record failed attempt")
		ev.NextAt = next.NextAt
	}
	d.requeue(l)
	d.mu.Unlock()
	if len(added) > 0 {
		d.Add(added)
	}
	d.Kick()
}

// requeue puts an idle lane with events back on the heap, or drops it. Call
// with mu held.
func (d *Outbox) requeue(l *lane) {
	l.busy = false
	if len(l.events) == 0 {
		delete(d.lanes, l.key)
		return
	}
	heap.Push(&l.cls.due, l)
}

// backoff is the wait after the n-th failed attempt: 1 s, 2 s, 4 s … capped
// at an hour, with ±10 % jitter so that a recovered receiver is not hit by
// every retry in the same second.
func backoff(n int) time.Duration {
	d := backoffMax
	if n < 13 {
		d = min(backoffMin<<(n-1), backoffMax)
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// laneHeap orders idle lanes by their head event's NextAt, then sequence.
type laneHeap []*lane

func (h laneHeap) Len() int           { return len(h) }
func (h laneHeap) Less(i, j int) bool { return before(h[i].events[0], h[j].events[0]) }

// headBefore reports whether h's first lane is due before o's (both non-empty).
func (h laneHeap) headBefore(o laneHeap) bool { return before(h[0].events[0], o[0].events[0]) }

func before(a, b *storage.Event) bool {
	if !a.NextAt.Equal(b.NextAt) {
		return a.NextAt.Before(b.NextAt)
	}
	return a.Seq < b.Seq
}
func (h laneHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *laneHeap) Push(x any) {
	l := x.(*lane)
	l.index = len(*h)
	*h = append(*h, l)
}
func (h *laneHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	l.index = -1
	*h = old[:len(old)-1]
	return l
}
