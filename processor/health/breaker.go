package health

import (
	"cmp"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"cardflow/alert"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Circuit breaker defaults: a supplier whose requests end without an answer
// five times in a row is marked down; after breakerProbe one request is let
// through as a probe, and its success marks the supplier up again.
const (
	breakerFailures = 5
	breakerProbe    = 30 * time.Second
)

var errNoAnswer = errors.New("no definite answer")

// breakers holds one circuit breaker per remote supplier. A definite answer
// (even a refusal) is a working supplier; only unknown outcomes count as
// failures.
//
// Processes sharing a store tell each other (TopicSupplier) when one of
// their breakers opens or closes: the others avoid the supplier too, so
// that the process that saw it fail sends the one probe and the rest do
// not each spend breakerFailures orders finding the outage for
// themselves. What another process said lasts until it says the supplier
// answers again, or, should it die meanwhile, two probe intervals.
type breakers struct {
	m       map[string]*gobreaker.CircuitBreaker[suppliers.Result]
	probes  map[string]time.Duration
	now     func() time.Time
	publish func(topic, payload string) // nil: no other process

	// mu guards what breakers keep beside gobreaker's own state, which
	// heard must not ask for: a nudge may come back to this process while
	// gobreaker holds its lock to report a change.
	mu     sync.Mutex
	shared map[string]time.Time // supplier → until when another process has it marked down
	closed map[string]bool      // this process's breakers that are closed
}

// TopicSupplier is the cluster topic on which processes tell each other a
// supplier's breaker opened ("down:NAME") or closed ("up:NAME").
const TopicSupplier = "supplier"

// breakerSettings are one supplier's breaker settings.
type breakerSettings struct {
	failures int
	probe    time.Duration
}

func newBreakers(settings map[string]breakerSettings, now func() time.Time, publish func(topic, payload string),
	onChange func(name string, down bool)) *breakers {
	b := &breakers{m: make(map[string]*gobreaker.CircuitBreaker[suppliers.Result], len(settings)),
		probes: map[string]time.Duration{}, now: now, publish: publish, shared: map[string]time.Time{}, closed: map[string]bool{}}
	for name, st := range settings {
		b.closed[name] = true
		failures := uint32(cmp.Or(st.failures, breakerFailures))
		b.probes[name] = cmp.Or(st.probe, breakerProbe)
		b.m[name] = gobreaker.NewCircuitBreaker[suppliers.Result](gobreaker.Settings{
			Name:        name,
			MaxRequests: 1,
			Timeout:     b.probes[name],
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			OnStateChange: func(name string, from, to gobreaker.State) {
				b.mu.Lock()
				b.closed[name] = to == gobreaker.StateClosed
				b.mu.Unlock()
				switch {
				case to == gobreaker.StateOpen:
					// A failed probe tells the others again: their hold
					// lasts two probe intervals from now.
					b.tell("down", name)
					if from == gobreaker.StateClosed {
						onChange(name, true)
					}
				case to == gobreaker.StateClosed:
					b.tell("up", name)
					onChange(name, false)
				}
			},
		})
	}
	return b
}

// tell has the other processes hear that a breaker opened or closed.
func (b *breakers) tell(what, name string) {
	if b.publish != nil {
		b.publish(TopicSupplier, what+":"+name)
	}
}

// heard takes what a process said on TopicSupplier. It reports the
// supplier another process found answering again, "" for anything else.
// While this process's own breaker is open or probing, it goes by that:
// its own words come back to it too, and must not hold up its probe.
func (b *breakers) heard(payload string) (up string) {
	what, name, _ := strings.Cut(payload, ":")
	if b.m[name] == nil {
		return "" // not a remote supplier of this configuration
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch what {
	case "down":
		if b.closed[name] {
			b.shared[name] = b.now().Add(2 * b.probes[name])
		}
	case "up":
		if _, held := b.shared[name]; held {
			delete(b.shared, name)
			return name
		}
	}
	return ""
}

// heldElsewhere reports whether another process has the supplier marked
// down now; it matters while this process's own breaker is closed.
func (b *breakers) heldElsewhere(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.shared[name]
	return ok && b.now().Before(until)
}

// call runs one supplier request through the supplier's breaker. When the
// breaker refuses, the request is not sent (sent is false).
func (b *breakers) call(name string, req func() suppliers.Result) (res suppliers.Result, sent bool) {
	cb := b.m[name]
	if cb == nil {
		return req(), true
	}
	res, err := cb.Execute(func() (suppliers.Result, error) {
		r := req()
		if r.Status == suppliers.StatusUnknown {
			return r, errNoAnswer
		}
		return r, nil
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "not sent: supplier is marked down"}, false
	}
	return res, true
}

// down reports whether new orders should avoid a supplier now. Once the
// probe time has passed the breaker is half-open and lets one request
// through as the probe, so this turns false before the supplier is marked
// up again.
func (b *breakers) down(name string) bool {
	cb := b.m[name]
	if cb == nil {
		return false
	}
	switch cb.State() {
	case gobreaker.StateOpen:
		return true
	case gobreaker.StateClosed:
		return b.heldElsewhere(name)
	}
	return false // half-open: this process probes
}

// markedDown reports whether a supplier is marked down: from the
// breaker opening until a probe succeeds, half-open included, the span of
// its supplier_down alert. The circuit gauge shows this, not down: a
// half-open breaker waiting for an order to probe with would otherwise
// read as a working supplier while its alert is still raised.
func (b *breakers) markedDown(name string) bool {
	cb := b.m[name]
	return cb != nil && (cb.State() != gobreaker.StateClosed || b.heldElsewhere(name))
}

// state names a supplier's breaker state for operators.
func (b *breakers) state(name string) string {
	cb := b.m[name]
	switch {
	case cb == nil:
		return "n/a"
	case cb.State() == gobreaker.StateClosed && b.heldElsewhere(name):
		return gobreaker.StateOpen.String() // another process's breaker: marked down all the same
	}
	return cb.State().String()
}

// Call runs one request to a supplier through its breaker. When the
// breaker refuses, the request is not sent (sent is false).
func (h *Health) Call(supplier string, req func() suppliers.Result) (res suppliers.Result, sent bool) {
	return h.breakers.call(supplier, req)
}

// Heard takes what another process said about a supplier's breaker
// (TopicSupplier): orders waiting for a supplier it found answering again
// look again.
func (h *Health) Heard(payload string) {
	if up := h.breakers.heard(payload); up != "" && h.markedUp != nil {
		go h.markedUp() // the nudge may come from inside a breaker's lock
	}
}

// Down reports whether new orders should avoid a supplier now (see
// breakers.down).
func (h *Health) Down(supplier string) bool { return h.breakers.down(supplier) }

// MarkedDown reports whether a supplier is marked down, half-open included:
// the span of its supplier_down alert (see breakers.markedDown).
func (h *Health) MarkedDown(supplier string) bool { return h.breakers.markedDown(supplier) }

// BreakerState names a supplier's breaker state for operators: closed,
// open, half-open; "n/a" for own stock.
func (h *Health) BreakerState(supplier string) string { return h.breakers.state(supplier) }

// Probe is how long a remote supplier stays marked down before one
// request is let through as a probe.
func (h *Health) Probe(supplier string) time.Duration { return h.probes[supplier] }

// changed raises the supplier-down alert when a breaker opens and
// resolves it when the supplier answers again; orders waiting for it look
// again at once.
func (h *Health) changed(name string, down bool) {
	go func() { // called inside the breaker's lock: write elsewhere
		err := h.write(func(tx *storage.Tx, _ time.Time, raise func(storage.Alert) error) error {
			return raise(storage.Alert{Key: string(alert.SupplierDown) + ":" + name, Type: alert.SupplierDown,
				Target: name, Resolved: !down})
		})
		if err != nil {
			h.log.Error().Err(err).Str("supplier", name).Msg("record supplier state")
		}
		h.log.Warn().Str("supplier", name).Bool("down", down).Msg("supplier state changed")
		if !down {
			h.markedUp()
		}
	}()
}
