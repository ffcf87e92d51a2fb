package health

import (
	"cmp"
	"errors"
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
type breakers struct {
	m map[string]*gobreaker.CircuitBreaker[suppliers.Result]
}

// breakerSettings are one supplier's breaker settings.
type breakerSettings struct {
	failures int
	probe    time.Duration
}

func newBreakers(settings map[string]breakerSettings, onChange func(name string, down bool)) *breakers {
	b := &breakers{m: make(map[string]*gobreaker.CircuitBreaker[suppliers.Result], len(settings))}
	for name, st := range settings {
		failures := uint32(cmp.Or(st.failures, breakerFailures))
		b.m[name] = gobreaker.NewCircuitBreaker[suppliers.Result](gobreaker.Settings{
			Name:        name,
			MaxRequests: 1,
			Timeout:     cmp.Or(st.probe, breakerProbe),
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			OnStateChange: func(name string, from, to gobreaker.State) {
				switch {
				case to == gobreaker.StateOpen && from == gobreaker.StateClosed:
					onChange(name, true)
				case to == gobreaker.StateClosed:
					onChange(name, false)
				}
			},
		})
	}
	return b
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
	return cb != nil && cb.State() == gobreaker.StateOpen
}

// markedDown reports whether a supplier is marked down: from the
// breaker opening until a probe succeeds, half-open included, the span of
// its supplier_down alert. The circuit gauge shows this, not down: a
// half-open breaker waiting for an order to probe with would otherwise
// read as a working supplier while its alert is still raised.
func (b *breakers) markedDown(name string) bool {
	cb := b.m[name]
	return cb != nil && cb.State() != gobreaker.StateClosed
}

// state names a supplier's breaker state for operators.
func (b *breakers) state(name string) string {
	cb := b.m[name]
	if cb == nil {
		return "n/a"
	}
	return cb.State().String()
}

// Call runs one request to a supplier through its breaker. When the
// breaker refuses, the request is not sent (sent is false).
func (h *Health) Call(supplier string, req func() suppliers.Result) (res suppliers.Result, sent bool) {
	return h.breakers.call(supplier, req)
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
