package processor

import (
	"context"
	"errors"
	"testing"
	"time"

	"cardflow/storage"
)

func delivered(o *storage.Order) bool { return o.Status == storage.StatusDelivered }

// TestWaitForReturnsWhenTheOrderMovesAndGivesUpAtItsDeadline: a handler
// waiting on an order that waits for stock is woken by the import that
// delivers it; one waiting past its deadline gets the order as it stands
// and the context's error; an order already delivered answers at once.
func TestWaitForReturnsWhenTheOrderMovesAndGivesUpAtItsDeadline(t *testing.T) {
	f := newFixture(t, nil)
	o := f.submit("W-1", "qb-10", 1, 1000) // no stock: it waits
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := f.engine.WaitFor(short, o.ID, delivered)
	if !errors.Is(err, context.DeadlineExceeded) || got == nil || got.Status != storage.StatusPending {
		t.Fatalf("a wait past its deadline: %+v, %v", got, err)
	}

	type result struct {
		o   *storage.Order
		err error
	}
	done := make(chan result, 3)
	for range 3 { // several waiters on one order
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			o, err := f.engine.WaitFor(ctx, o.ID, delivered)
			done <- result{o, err}
		}()
	}
	f.importCards("qb-10", "WF", 1)
	for range 3 {
		r := <-done
		if r.err != nil || r.o.Status != storage.StatusDelivered {
			t.Fatalf("a waiter woken by the delivery: %+v, %v", r.o, r.err)
		}
	}
	now, err := f.engine.WaitFor(context.Background(), o.ID, delivered)
	if err != nil || now.Status != storage.StatusDelivered {
		t.Fatalf("waiting on a delivered order: %+v, %v", now, err)
	}
	if n := f.engine.waiters.n.Load(); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

// TestWaitForAnUnknownOrderIsNotFound.
func TestWaitForAnUnknownOrderIsNotFound(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.engine.WaitFor(context.Background(), 999, delivered); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}
