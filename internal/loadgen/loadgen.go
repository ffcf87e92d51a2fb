// Package loadgen sends signed orders to a storefront API as fast as it can
// (or at a fixed rate) and measures intake and end-to-end latency, the
// latter from the callbacks a storefront.Receiver sees. cardflow-bench
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
	Client      *storefront.Client
	Receiver    *storefront.Receiver // nil: intake only
	Orders      int
	Concurrency int
	Rate        float64 // orders per second; 0 sends as fast as possible
	SKU         string
	Amount      string
	Prefix      string         // external id prefix, unique per run
	Progress    func(Progress) // called about twice a second, if set
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
}

// Latencies summarises a latency sample.
type Latencies struct {
	P50, P95, P99, Max time.Duration
}

func summarise(d []time.Duration) Latencies {
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

// Run sends the orders, then (with a Receiver) waits up to deliverWait for
// their delivered callbacks.
func Run(ctx context.Context, o Options, deliverWait time.Duration) Result {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	var (
		mu        sync.Mutex
		started   = make(map[string]time.Time, o.Orders) // cardflow id → send time
		e2e       = make([]time.Duration, 0, o.Orders)
		lastDeliv time.Time
		intake    = make([][]time.Duration, o.Concurrency)
		accepted  atomic.Int64
		rejected  atomic.Int64
		sent      atomic.Int64
		firstErr  error
		errOnce   sync.Once
	)
	begin := time.Now()
	if o.Receiver != nil {
		o.Receiver.OnCallback = func(cb storefront.Callback) {
			if cb.Type != "order.delivered" {
				return
			}
			now := time.Now()
			mu.Lock()
			if t0, ok := started[cb.Order.ID]; ok {
				e2e = append(e2e, now.Sub(t0))
				delete(started, cb.Order.ID)
				lastDeliv = now
			}
			mu.Unlock()
		}
	}
	var pace <-chan time.Time
	if o.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
		defer t.Stop()
		pace = t.C
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
			for {
				n := next.Add(1)
				if n > int64(o.Orders) || ctx.Err() != nil {
					return
				}
				if pace != nil {
					select {
					case <-pace:
					case <-ctx.Done():
						return
					}
				}
				t0 := time.Now()
				sent.Add(1)
				id, err := o.Client.Place(ctx, storefront.NewOrder{
					ExternalID: externalID(o.Prefix, n), SKU: o.SKU, Quantity: 1, Amount: o.Amount,
					Buyer: buyerOf(n),
				})
				d := time.Since(t0)
				if err != nil {
					rejected.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				accepted.Add(1)
				intake[w] = append(intake[w], d)
				if o.Receiver != nil {
					mu.Lock()
					if !o.Receiver.Delivered(id) {
						started[id] = t0
					} else { // the callback beat the answer
						e2e = append(e2e, time.Since(t0))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	res := Result{Accepted: int(accepted.Load()), Rejected: int(rejected.Load()), FirstError: firstErr,
		IntakeDuration: time.Since(begin)}
	var all []time.Duration
	for _, w := range intake {
		all = append(all, w...)
	}
	res.Intake = summarise(all)
	if o.Receiver != nil {
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
		res.EndToEnd = summarise(slices.Clone(e2e))
		if !lastDeliv.IsZero() {
			res.DeliveredDuration = lastDeliv.Sub(begin)
		}
		res.DeliveryIncomplete = res.Delivered < res.Accepted
		mu.Unlock()
	}
	stopProgress()
	return res
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

// buyerOf spreads orders over 50,000 buyers, each with an id, a contact and
// an IP, as a busy shop sees them: the rules' history lookups and writes
// then hit as many distinct records as they would in production.
//
// The strings are built with strconv rather than fmt: the load generator
// shares the cores it measures cardflow on.
func buyerOf(n int64) storefront.Buyer {
	b := n % 50_000
	num := strconv.FormatInt(b, 10)
	ip := strconv.AppendInt(append(strconv.AppendInt(append(strconv.AppendInt([]byte("10."), b>>16&255, 10), '.'), b>>8&255, 10), '.'), b&255, 10)
	return storefront.Buyer{ID: "load-" + num, Contact: "buyer" + num + "@example.com", IP: string(ip)}
}

// externalID is prefix-NNNNNNNN, the order number zero-padded to 8 digits.
func externalID(prefix string, n int64) string {
	digits := strconv.FormatInt(n, 10)
	if pad := 8 - len(digits); pad > 0 {
		digits = "00000000"[:pad] + digits
	}
	return prefix + "-" + digits
}
