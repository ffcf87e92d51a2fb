// Package loadgen sends orders as fast as it can (or at a fixed rate) and
// measures intake and end-to-end latency, the latter from the deliveries a
// storefront's callback endpoint sees. It knows no protocol: a run is given
// how to place order n and where deliveries are heard of; Storefront and
// ReceiverDeliveries are cardflow's own signed API. cardflow-bench
// (`cardflow bench`) and the benchmarks use it.
package loadgen

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cardflow/internal/storefront"
)

// Options describe one load run.
type Options struct {
	// Place sends order n (from 1) and returns, once it is accepted, the key
	// Deliveries will report it under.
	Place       func(ctx context.Context, n int64) (key string, err error)
	Deliveries  Deliveries // nil: intake only
	Orders      int
	Concurrency int
	Rate        float64        // orders per second; 0 sends as fast as possible
	Progress    func(Progress) // called about twice a second, if set
	// Sent, if set, is called once every order has been answered, before
	// the wait for deliveries.
	Sent func()
}

// Deliveries is where a run hears that its orders were delivered: a
// storefront's callback endpoint.
type Deliveries interface {
	// OnDelivered makes f be called with the key of each order delivered
	// from now on, once per order.
	OnDelivered(f func(key string))
	// Delivered says whether the order of key was delivered already: its
	// callback may overtake the answer to the order.
	Delivered(key string) bool
}

// ReceiverDeliveries are the order.delivered callbacks of cardflow's own
// API, keyed by cardflow's order id.
func ReceiverDeliveries(r *storefront.Receiver) Deliveries { return receiverDeliveries{r} }

type receiverDeliveries struct{ r *storefront.Receiver }

func (d receiverDeliveries) OnDelivered(f func(string)) {
	d.r.OnCallback = func(cb storefront.Callback) {
		if cb.Type == "order.delivered" {
			f(cb.Order.ID)
		}
	}
}

func (d receiverDeliveries) Delivered(id string) bool { return d.r.Delivered(id) }

// Storefront places order n through cardflow's own signed API: one unit of
// sku at amount, external id prefix-NNNNNNNN, from one of 50,000 buyers. The
// key is cardflow's order id.
func Storefront(client *storefront.Client, sku, amount, prefix string) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, n int64) (string, error) {
		return client.Place(ctx, storefront.NewOrder{ExternalID: ExternalID(prefix, n), SKU: sku, Quantity: 1,
			Amount: amount, Buyer: BuyerOf(n)})
	}
}

// Progress is a snapshot while a run goes on.
type Progress struct {
	Sent, Accepted, Delivered int
	Elapsed                   time.Duration
}

// Result is what a run measured.
type Result struct {
	Accepted, Rejected int
	FirstError         error
	IntakeDuration     time.Duration // first send to last answer
	Intake             Latencies
	Delivered          int
	DeliveredDuration  time.Duration // first send to last delivered callback
	EndToEnd           Latencies
	DeliveryIncomplete bool
	// Steady is the orders delivered a second from a fifth of the intake's
	// time to its end: what the service keeps up with once the run is under
	// way, neither its first orders (no backlog yet) nor the tail after the
	// last order (the slowest deliveries, which DeliveredDuration waits
	// for) counted. At a rate it keeps up with, it is that rate.
	Steady float64
}

// Latencies summarises a latency sample.
type Latencies struct {
	P50, P95, P99, Max time.Duration
}

// Summarise sorts d and reads its quantiles.
func Summarise(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Latencies{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: d[len(d)-1]}
}

// AcceptedPerSecond is the intake throughput.
func (r Result) AcceptedPerSecond() float64 { return perSecond(r.Accepted, r.IntakeDuration) }

// DeliveredPerSecond is the end-to-end throughput.
func (r Result) DeliveredPerSecond() float64 { return perSecond(r.Delivered, r.DeliveredDuration) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Run sends the orders, then (with Deliveries) waits up to deliverWait for
// their delivered callbacks.
func Run(ctx context.Context, o Options, deliverWait time.Duration) Result {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	var (
		mu        sync.Mutex
		started   = make(map[string]time.Time, o.Orders) // key → send time
		e2e       = make([]time.Duration, 0, o.Orders)
		delivAt   = make([]time.Duration, 0, o.Orders) // since begin
		lastDeliv time.Time
		intake    = make([][]time.Duration, o.Concurrency)
		accepted  atomic.Int64
		rejected  atomic.Int64
		sent      atomic.Int64
		firstErr  error
		errOnce   sync.Once
	)
	begin := time.Now()
	if o.Deliveries != nil {
		o.Deliveries.OnDelivered(func(key string) {
			now := time.Now()
			mu.Lock()
			if t0, ok := started[key]; ok {
				e2e = append(e2e, now.Sub(t0))
				delivAt = append(delivAt, now.Sub(begin))
				delete(started, key)
				lastDeliv = now
			}
			mu.Unlock()
		})
	}
	stopProgress := startProgress(o, begin, &sent, &accepted, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(e2e)
	})
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range o.Concurrency {
		wg.Go(func() {
			var wait *time.Timer
			for {
				n := next.Add(1)
				if n > int64(o.Orders) || ctx.Err() != nil {
					return
				}
				if o.Rate > 0 && !paced(ctx, &wait, begin.Add(due(n, o.Rate))) {
					return
				}
				t0 := time.Now()
				sent.Add(1)
				key, err := o.Place(ctx, n)
				d := time.Since(t0)
				if err != nil {
					rejected.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				accepted.Add(1)
				intake[w] = append(intake[w], d)
				if o.Deliveries != nil {
					mu.Lock()
					if !o.Deliveries.Delivered(key) {
						started[key] = t0
					} else { // the callback beat the answer
						now := time.Now()
						e2e = append(e2e, now.Sub(t0))
						delivAt = append(delivAt, now.Sub(begin))
						if now.After(lastDeliv) {
							lastDeliv = now
						}
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if o.Sent != nil {
		o.Sent()
	}
	res := Result{Accepted: int(accepted.Load()), Rejected: int(rejected.Load()), FirstError: firstErr,
		IntakeDuration: time.Since(begin)}
	var all []time.Duration
	for _, w := range intake {
		all = append(all, w...)
	}
	res.Intake = Summarise(all)
	if o.Deliveries != nil {
		deadline := time.Now().Add(deliverWait)
		for {
			mu.Lock()
			n := len(e2e)
			mu.Unlock()
			if n >= res.Accepted || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			<-time.After(5 * time.Millisecond)
		}
		mu.Lock()
		res.Delivered = len(e2e)
		res.EndToEnd = Summarise(slices.Clone(e2e))
		res.Steady = steady(delivAt, res.IntakeDuration)
		if !lastDeliv.IsZero() {
			res.DeliveredDuration = lastDeliv.Sub(begin)
		}
		res.DeliveryIncomplete = res.Delivered < res.Accepted
		mu.Unlock()
	}
	stopProgress()
	return res
}

// steady counts the deliveries made from a fifth of intake to its end, a
// second.
func steady(deliveredAt []time.Duration, intake time.Duration) float64 {
	from := intake / 5
	n := 0
	for _, at := range deliveredAt {
		if at >= from && at <= intake {
			n++
		}
	}
	return perSecond(n, intake-from)
}

// due is when order n of a run at rate orders a second is to be sent,
// after the run's start. The schedule is absolute: an order sent late
// (every worker was busy, or this one was not run in time on a busy
// machine) does not push back the ones after it, which go at once until
// the run is on time again. A ticker, as this used, drops the ticks
// nobody took in time: the run then fell behind for good, and at 1,000 a
// second on two busy cores sent 770 – 920 a second, so that a service
// looked slower than it was.
func due(n int64, rate float64) time.Duration {
	return time.Duration(float64(n-1) / rate * float64(time.Second))
}

// paced waits until at, on the worker's timer (made on first use); false if
// ctx ended first.
func paced(ctx context.Context, wait **time.Timer, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	if *wait == nil {
		*wait = time.NewTimer(d)
	} else {
		(*wait).Reset(d)
	}
	select {
	case <-(*wait).C:
		return true
	case <-ctx.Done():
		(*wait).Stop()
		return false
	}
}

func startProgress(o Options, begin time.Time, sent, accepted *atomic.Int64, delivered func() int) func() {
	if o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.Progress(Progress{Sent: int(sent.Load()), Accepted: int(accepted.Load()), Delivered: delivered(), Elapsed: time.Since(begin)})
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// ErrIncomplete is returned by callers that require every order delivered.
var ErrIncomplete = errors.New("not every accepted order was delivered in time")

// BuyerOf spreads orders over 50,000 buyers, each with an id, a contact and
// an IP, as a busy shop sees them: the rules' history lookups and writes
// then hit as many distinct records as they would in production.
//
// The strings are built with strconv rather than fmt: the load generator
// shares the cores it measures cardflow on.
func BuyerOf(n int64) storefront.Buyer {
	b := n % 50_000
	num := strconv.FormatInt(b, 10)
	ip := strconv.AppendInt(append(strconv.AppendInt(append(strconv.AppendInt([]byte("10."), b>>16&255, 10), '.'), b>>8&255, 10), '.'), b&255, 10)
	return storefront.Buyer{ID: "load-" + num, Contact: "buyer" + num + "@example.com", IP: string(ip)}
}

// ExternalID is prefix-NNNNNNNN, the order number zero-padded to 8 digits.
func ExternalID(prefix string, n int64) string {
	digits := strconv.FormatInt(n, 10)
	if pad := 8 - len(digits); pad > 0 {
		digits = "00000000"[:pad] + digits
	}
	return prefix + "-" + digits
}
