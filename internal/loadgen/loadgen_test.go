package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The strconv builders must say what the fmt formats they replaced said:
// external ids and buyers are part of what a run's orders look like.
func TestOrderStringsMatchTheirFormats(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 49_999, 50_000, 65_537, 99_999_999, 123_456_789} {
		if got, want := ExternalID("bench-1", n), fmt.Sprintf("%s-%08d", "bench-1", n); got != want {
			t.Errorf("ExternalID(%d) = %q, want %q", n, got, want)
		}
		b := n % 50_000
		want := fmt.Sprintf("load-%d|buyer%d@example.com|10.%d.%d.%d", b, b, b>>16&255, b>>8&255, b&255)
		got := BuyerOf(n)
		if s := got.ID + "|" + got.Contact + "|" + got.IP; s != want {
			t.Errorf("BuyerOf(%d) = %q, want %q", n, s, want)
		}
	}
}

// chanDeliveries delivers each placed order from another goroutine, some
// before the answer to the order (as a callback can overtake it).
type chanDeliveries struct {
	mu     sync.Mutex
	notify func(string)
	done   map[string]bool
}

func (d *chanDeliveries) OnDelivered(f func(string)) { d.notify = f }

func (d *chanDeliveries) Delivered(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done[key]
}

func (d *chanDeliveries) deliver(key string) {
	d.mu.Lock()
	d.done[key] = true
	d.mu.Unlock()
	d.notify(key)
}

// TestARunCountsEveryAnswerAndEveryDeliveryWhateverTheProtocol: Run knows
// only how to place order n and where deliveries are heard of; a delivery
// heard before its answer counts once, a refusal counts as rejected with
// its error kept, and Sent is called once the orders are answered.
func TestARunCountsEveryAnswerAndEveryDeliveryWhateverTheProtocol(t *testing.T) {
	d := &chanDeliveries{done: map[string]bool{}}
	var delivering sync.WaitGroup
	var sentCalls atomic.Int32
	refused := errors.New("refused: order 7")
	res := Run(context.Background(), Options{
		Place: func(_ context.Context, n int64) (string, error) {
			if n == 7 {
				return "", refused
			}
			key := ExternalID("t", n)
			if n%2 == 0 {
				d.deliver(key) // before the answer
			} else {
				delivering.Go(func() { d.deliver(key) })
			}
			return key, nil
		},
		Deliveries: d, Orders: 40, Concurrency: 4,
		Sent: func() { sentCalls.Add(1) },
	}, 10*time.Second)
	delivering.Wait()
	if res.Accepted != 39 || res.Rejected != 1 || !errors.Is(res.FirstError, refused) {
		t.Fatalf("accepted %d, rejected %d, first error %v", res.Accepted, res.Rejected, res.FirstError)
	}
	if res.Delivered != 39 || res.DeliveryIncomplete || res.DeliveredDuration <= 0 || res.EndToEnd.Max <= 0 {
		t.Fatalf("delivered %d (incomplete %v) in %v, e2e %+v", res.Delivered, res.DeliveryIncomplete, res.DeliveredDuration, res.EndToEnd)
	}
	if n := sentCalls.Load(); n != 1 {
		t.Fatalf("Sent called %d times", n)
	}
	if res.Steady <= 0 {
		t.Fatalf("steady %v deliveries a second, for deliveries made during the intake", res.Steady)
	}
}

// TestSteadyIsWhatTheServiceKeepsUpWith: over a 10 s intake, a service that
// keeps up with 1,000 orders a second delivers 1,000 a second from the 2nd
// second on, whatever the first and last deliveries took; one that falls
// behind (500 a second, its backlog delivered after the intake) counts
// 500. The deliveries before 2 s and after 10 s are not counted.
func TestSteadyIsWhatTheServiceKeepsUpWith(t *testing.T) {
	const intake = 10 * time.Second
	at := func(rate float64, from, to time.Duration) []time.Duration {
		var out []time.Duration
		for d := from; d < to; d += time.Duration(float64(time.Second) / rate) {
			out = append(out, d)
		}
		return out
	}
	keepsUp := append(at(1000, 0, intake), at(50, intake, intake+2*time.Second)...) // a slow tail
	if got := steady(keepsUp, intake); got < 999 || got > 1001 {
		t.Errorf("keeping up with 1,000 a second: steady %.1f", got)
	}
	behind := append(at(2000, 0, time.Second), at(500, time.Second, 3*intake)...) // quick at first
	if got := steady(behind, intake); got < 499 || got > 501 {
		t.Errorf("falling behind at 500 a second: steady %.1f", got)
	}
	if got := steady(nil, intake); got != 0 {
		t.Errorf("no deliveries: steady %.1f", got)
	}
}

// TestARunAtARateKeepsItsSchedule: 400 orders at 1,000 a second on one
// connection, every 20th answered after 15 ms and the rest at once. The
// run is due to end after 400 ms; a late order must not push back the
// ones after it, which go at once until the run is on time again. The
// ticker this used dropped the ticks that fell during each slow answer,
// and the run took 720 ms, past the 600 allowed here (half the
// schedule again, for a busy machine's late wake-ups). No order goes
// before its time.
func TestARunAtARateKeepsItsSchedule(t *testing.T) {
	const orders, rate = 400, 1000.0
	var mu sync.Mutex
	sentAt := make([]time.Duration, orders+1)
	begin := time.Now()
	res := Run(context.Background(), Options{
		Orders: orders, Concurrency: 1, Rate: rate,
		Place: func(_ context.Context, n int64) (string, error) {
			mu.Lock()
			sentAt[n] = time.Since(begin)
			mu.Unlock()
			if n%20 == 10 {
				time.Sleep(15 * time.Millisecond)
			}
			return fmt.Sprint(n), nil
		},
	}, 0)
	if res.Accepted != orders {
		t.Fatalf("accepted %d of %d", res.Accepted, orders)
	}
	for n := int64(1); n <= orders; n++ {
		// begin here is taken a little before the run's own.
		if due := due(n, rate); sentAt[n] < due-time.Millisecond {
			t.Fatalf("order %d sent at %v, before its time %v", n, sentAt[n], due)
		}
	}
	if schedule := due(orders, rate); res.IntakeDuration > schedule*150/100 {
		t.Errorf("the run took %v, its schedule %v: it fell behind", res.IntakeDuration, schedule)
	}
}
