// Package outbox carries every side effect of an order's change to its
// receiver at least once: the events a write stored (storefront callbacks,
// alerts for the operators) are delivered after the commit, in order per
// lane, retried with backoff until acknowledged, and survive restarts. It
// holds the dispatcher, the signed HTTP callback sender and the alerts the
// outbox raises about itself (callbacks failing or redirected, a backlog).
package outbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

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
