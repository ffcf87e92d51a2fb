package fulufake

import (
	"maps"
	"time"

	"cardflow/suppliers/fulu"
)

// FaultKind is one way the gateway misbehaves.
type FaultKind int

// Faults. "Processed" means the call takes effect (an add creates its
// order) before the answer goes wrong.
const (
	FaultNone FaultKind = iota
	// FaultLostAnswer: processed, then the connection is closed without an answer.
	FaultLostAnswer
	// FaultBadGateway: processed, then HTTP 502 with an HTML body.
	FaultBadGateway
	// Fault4009Created (add): the order is created, the answer is 4009.
	Fault4009Created
	// Fault4009NotCreated (add): nothing is created, the answer is 4009.
	Fault4009NotCreated
	// Fault5000Created: processed, the answer is 5000.
	Fault5000Created
	// Fault5000NotCreated: nothing is processed, the answer is 5000.
	Fault5000NotCreated
	// Fault4008 (add): nothing is created, the answer is 4008.
	Fault4008
	// FaultEarlyCallback (add): the order is final at once and its callback
	// is delivered (to NotifyURL, if set) before the add answer is sent.
	FaultEarlyCallback
	// FaultDuplicateCallback (add): the order's final callback is sent twice.
	FaultDuplicateCallback
	// FaultBadSign: processed; the answer's sign does not match its result.
	FaultBadSign
	// FaultGarbled: processed; the answer body is cut and is not JSON.
	FaultGarbled
	// FaultSlow: processed; the answer waits Fault.Delay, or until the
	// client gives up (the request context ends) or the gateway closes.
	FaultSlow
	// FaultDuplicateCard (add): the order's first card reuses the number of
	// the last card the gateway issued before it (or, for the very first
	// order, its second card repeats its first).
	FaultDuplicateCard
)

var faultNames = [...]string{"none", "lost_answer", "bad_gateway", "4009_created", "4009_not_created",
	"5000_created", "5000_not_created", "4008", "early_callback", "duplicate_callback", "bad_sign",
	"garbled", "slow", "duplicate_card"}

func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "fault(?)"
}

// Fault is one injected misbehaviour.
type Fault struct {
	Kind  FaultKind
	Delay time.Duration // FaultSlow
}

// Rates are the probabilities, per call, of random faults; at most one
// fault hits a call. Faults that only make sense for an add are only drawn
// for adds.
type Rates struct {
	LostAnswer, BadGateway                                                   float64
	Code4009Created, Code4009NotCreated, Code5000Created, Code5000NotCreated float64
	Code4008                                                                 float64
	EarlyCallback, DuplicateCallback                                         float64
	BadSign, Garbled, Slow                                                   float64
	DuplicateCard                                                            float64
	SlowDelay                                                                time.Duration // default 3 s
}

type queued struct {
	method string
	fault  Fault
}

// Inject queues a fault for the next call of method (a Fulu method name such
// as fulu.MethodCardAdd, or "" for the next call it applies to). Queued
// faults are consumed in order and take precedence over random ones.
func (g *Gateway) Inject(method string, f Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, queued{method, f})
}

// SetRates sets the random fault rates; the zero Rates turns them off.
func (g *Gateway) SetRates(r Rates) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rates = r
}

// addOnly reports faults that only make sense for an add.
func addOnly(k FaultKind) bool {
	switch k {
	case Fault4009Created, Fault4009NotCreated, Fault4008, FaultEarlyCallback, FaultDuplicateCallback, FaultDuplicateCard:
		return true
	}
	return false
}

func isAdd(method string) bool { return method == fulu.MethodCardAdd || method == fulu.MethodDirectAdd }

// Faults counts the faults applied so far, by kind (queued and drawn).
func (g *Gateway) Faults() map[FaultKind]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.applied)
}

// pickFault takes the first queued fault for method, or draws one.
func (g *Gateway) pickFault(method string) Fault {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.pickFaultLocked(method)
	if f.Kind != FaultNone {
		g.applied[f.Kind]++
	}
	return f
}

func (g *Gateway) pickFaultLocked(method string) Fault {
	for i, q := range g.faults {
		if (q.method == method || q.method == "") && (isAdd(method) || !addOnly(q.fault.Kind)) {
			g.faults = append(g.faults[:i], g.faults[i+1:]...)
			return q.fault
		}
	}
	r := g.rates
	draws := []struct {
		kind FaultKind
		p    float64
	}{
		{FaultLostAnswer, r.LostAnswer}, {FaultBadGateway, r.BadGateway},
		{Fault4009Created, r.Code4009Created}, {Fault4009NotCreated, r.Code4009NotCreated},
		{Fault5000Created, r.Code5000Created}, {Fault5000NotCreated, r.Code5000NotCreated},
		{Fault4008, r.Code4008}, {FaultEarlyCallback, r.EarlyCallback},
		{FaultDuplicateCallback, r.DuplicateCallback}, {FaultBadSign, r.BadSign},
		{FaultGarbled, r.Garbled}, {FaultSlow, r.Slow}, {FaultDuplicateCard, r.DuplicateCard},
	}
	x := g.rng.Float64()
	for _, d := range draws {
		if d.p <= 0 || (addOnly(d.kind) && !isAdd(method)) {
			continue
		}
		if x < d.p {
			f := Fault{Kind: d.kind}
			if d.kind == FaultSlow {
				f.Delay = r.SlowDelay
				if f.Delay <= 0 {
					f.Delay = 3 * time.Second
				}
			}
			return f
		}
		x -= d.p
	}
	return Fault{}
}
