package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

// TestCrashRecoveryKeepsEveryPromise runs the real binary, sends many
// concurrent signed orders, kills it with SIGKILL at random moments, restarts
// it, and checks from the storefront's side that every accepted order was
// delivered, no card went to two orders, and no order got two card sets.
func TestCrashRecoveryKeepsEveryPromise(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	s := newService(t, "")
	p := s.start(t)
	const cards, orders, senders, kills = 8000, 3000, 16, 6
	var lines strings.Builder
	for i := range cards {
		fmt.Fprintf(&lines, "CRASH-%06d,pw-%06d\n", i, i)
	}
	res, err := s.adminClient().ImportStock(context.Background(), "qb-10", strings.NewReader(lines.String()))
	if err != nil || res.Added != cards {
		t.Fatalf("import: %+v %v", res, err)
	}

	// Senders: each order is retried (signed afresh) until cardflow answers,
	// as a storefront would; a crash between commit and answer must give the
	// same order back on the retry.
	var (
		mu       sync.Mutex
		accepted = map[string]string{} // external id → cardflow id
		quantity = map[string]int{}    // cardflow id → quantity
	)
	client := s.client()
	load := startLoad(t, orders, senders, func(n int) error {
		o := storefront.NewOrder{ExternalID: fmt.Sprintf("C-%05d", n), SKU: "qb-10", Quantity: 1 + n%3,
			Amount: fmt.Sprintf("%d.00", 10*(1+n%3)), Buyer: storefront.Buyer{ID: fmt.Sprintf("b%d", n%50)}}
		got, status, err := submit(context.Background(), client, o)
		if err != nil || status != 201 && status != 200 {
			return fmt.Errorf("%s not accepted: %d %v", o.ExternalID, status, err)
		}
		mu.Lock()
		accepted[o.ExternalID] = got.ID
		quantity[got.ID] = got.Quantity
		mu.Unlock()
		return nil
	})

	// Killer: SIGKILL at random moments while orders flow, then restart.
	midFlight := 0
	for range kills {
		<-time.After(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		if load.sending() {
			midFlight++
		}
		p.kill()
		p = s.start(t)
	}
	load.wait()
	if midFlight < 3 {
		t.Fatalf("only %d of %d kills hit while orders were being sent; the test proved little", midFlight, kills)
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(accepted) != orders {
		t.Fatalf("%d orders accepted, want %d", len(accepted), orders)
	}

	// Everything accepted is delivered and its callback received.
	testkit.EventuallyWithin(t, 60*time.Second, "every accepted order delivered to the storefront", func() bool {
		for _, id := range accepted {
			if !s.receiver.Delivered(id) {
				return false
			}
		}
		return true
	})
	if p := s.receiver.Problems(); len(p) > 0 {
		t.Fatalf("storefront saw broken promises: %v", p)
	}
	// The API agrees with the callbacks, and cards are unique across orders.
	owner := map[string]string{}
	total := 0
	for ext, id := range accepted {
		o, _, err := client.Get(context.Background(), id)
		if err != nil || o.Status != "delivered" || o.ExternalID != ext || len(o.Cards) != quantity[id] {
			t.Fatalf("order %s (%s): %+v %v", id, ext, o, err)
		}
		for _, c := range o.Cards {
			if other, ok := owner[c.Number]; ok {
				t.Fatalf("card %s… delivered to %s and %s", c.Number[:8], other, id)
			}
			owner[c.Number] = id
			total++
		}
	}
	levels, err := s.adminClient().Stock(context.Background())
	if err != nil || len(levels) != 1 || levels[0].Level != cards-total {
		t.Fatalf("stock after %d cards delivered: %+v %v", total, levels, err)
	}
	// The restarted process's gauges read the store, so they agree with it.
	metrics := s.scrape(t)
	for _, want := range []string{`cardflow_orders_open{status="pending"} 0`, `cardflow_orders_open{status="processing"} 0`,
		fmt.Sprintf(`cardflow_stock_level{sku="qb-10"} %d`, cards-total), "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	st := s.receiver.Stats()
	t.Logf("%d orders, %d cards delivered over %d kills (%d mid-flight); callbacks accepted %d (repeats %d)",
		orders, total, kills, midFlight, st.Accepted, st.Repeats)
	p.interrupt(t)
}
