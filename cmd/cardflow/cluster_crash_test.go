package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/suppliers/fulu/fulufake"
)

// sibling is another process of s's shop: the same config and environment
// (so the same database, master key and callback receiver) on listeners of
// its own, in a directory of its own.
func (s *service) sibling(t *testing.T) *service {
	t.Helper()
	cfg, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	o := &service{dir: t.TempDir(), apiAddr: freeAddr(t), admin: freeAddr(t), env: s.env, receiver: s.receiver, callbackURL: s.callbackURL}
	text := strings.Replace(string(cfg), fmt.Sprintf("listen = %q", s.apiAddr), fmt.Sprintf("listen = %q", o.apiAddr), 1)
	text = strings.Replace(text, fmt.Sprintf("listen = %q", s.admin), fmt.Sprintf("listen = %q", o.admin), 1)
	o.config = filepath.Join(o.dir, "config.toml")
	if err := os.WriteFile(o.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestThreeProcessesOnOneDatabaseLoseNothingWhenKilled runs three real
// cardflow processes on one PostgreSQL database, selling own stock and
// buying from a fake Fulu gateway (which loses some answers and calls back
// early or twice, its callbacks reaching the first process only), under a
// load spread over all three, and SIGKILLs them: one at a time, each
// started again, then two at once. The storefront sends each order to one
// process and, when it does not answer, to the next, under the same
// external_id. From the storefront's and the gateway's side it then checks:
// every accepted order delivered exactly once with its own cards, no card
// to two orders, no batch bought twice, every callback received.
func TestThreeProcessesOnOneDatabaseLoseNothingWhenKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	url := pgtest.URL(t)
	first, gw := newFuluService(t, "", fuluCard+`
[storage]
backend = "postgres"
dsn_env = "CARDFLOW_TEST_DSN"
`, fulufake.Options{SuccessAfter: 100 * time.Millisecond})
	first.env = append(first.env, "CARDFLOW_TEST_DSN="+url)
	gw.SetRates(fulufake.Rates{LostAnswer: 0.04, EarlyCallback: 0.05, DuplicateCallback: 0.1})
	svcs := []*service{first, first.sibling(t), first.sibling(t)}
	procs := make([]*proc, len(svcs))
	var all []*proc // every process started, killed ones too, for their logs
	start := func(i int) {
		procs[i] = svcs[i].start(t)
		all = append(all, procs[i])
	}
	for i := range svcs {
		start(i)
	}
	const stock = 400
	var keys strings.Builder
	for i := range stock {
		fmt.Fprintf(&keys, "CL-%04d,pw%04d\n", i, i)
	}
	if res, err := first.adminClient().ImportStock(context.Background(), "qb-10", strings.NewReader(keys.String())); err != nil || res.Added != stock {
		t.Fatalf("import: %+v %v", res, err)
	}

	const orders, senders = 360, 9
	var (
		mu       sync.Mutex
		accepted = map[string]storefront.NewOrder{} // cardflow id → the order
		turn     atomic.Int64
	)
	clients := make([]*storefront.Client, len(svcs))
	for i, s := range svcs {
		clients[i] = s.client()
	}
	load := startLoad(t, orders, senders, func(n int) error {
		o := storefront.NewOrder{ExternalID: fmt.Sprintf("CL-%04d", n), SKU: "qb-10", Quantity: 1, Amount: "10.00",
			Buyer: storefront.Buyer{ID: "b" + strconv.Itoa(n)}}
		if n%3 == 0 {
			o.SKU, o.Quantity, o.Amount = "fl-card", 1+n%4, "1.00"
		}
		// Each try goes to the next process: a killed one answers nothing,
		// one whose database write failed answers 503.
		for try := 0; ; try++ {
			c := clients[int(turn.Add(1))%len(clients)]
			got, _, err := c.Create(context.Background(), o)
			if err == nil {
				mu.Lock()
				accepted[got.ID] = o
				mu.Unlock()
				return nil
			}
			if try > 3000 {
				return fmt.Errorf("%s: %w", o.ExternalID, err)
			}
			<-time.After(5 * time.Millisecond)
		}
	})
	pause := func() { <-time.After(time.Duration(300+rand.IntN(500)) * time.Millisecond) }
	for i := range procs { // one at a time
		pause()
		procs[i].kill()
		pause()
		start(i)
	}
	pause() // two at once: the third takes their work over
	procs[0].kill()
	procs[1].kill()
	pause()
	start(0)
	start(1)
	load.wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(accepted) != orders {
		t.Fatalf("%d orders accepted of %d", len(accepted), orders)
	}

	var missing []string
	if !testkit.Poll(3*time.Minute, 50*time.Millisecond, func() bool {
		missing = missing[:0]
		for id := range accepted {
			if !first.receiver.Delivered(id) {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	}) {
		for _, id := range missing[:min(len(missing), 5)] {
			o, _, err := clients[2].Get(context.Background(), id)
			t.Logf("order %s: %s %q %v", id, o.Status, o.Reason, err)
		}
		for i, p := range procs {
			t.Logf("process %d:\n%s", i, lastLines(p.logs(), 20))
		}
		t.Fatalf("%d accepted orders never delivered", len(missing))
	}
	if pr := first.receiver.Problems(); len(pr) > 0 {
		t.Fatalf("the storefront saw broken promises: %v", pr)
	}
	// The gateway's side: one purchase per batch number, ever, and each
	// order got exactly the cards the gateway issued for it.
	issued := map[string][]string{} // cardflow order id → card numbers
	for _, r := range gw.Orders() {
		rest, _ := strings.CutPrefix(r.No, "CF")
		id, _, _ := strings.Cut(rest, "-")
		for _, c := range r.Cards {
			issued[id] = append(issued[id], c.Number)
		}
	}
	created := map[string]bool{}
	for _, r := range gw.Orders() {
		if created[r.No] {
			t.Fatalf("purchase %s was created twice at the gateway", r.No)
		}
		created[r.No] = true
	}
	for id, o := range accepted {
		got, _, err := clients[0].Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var numbers []string
		for _, c := range got.Cards {
			numbers = append(numbers, c.Number)
		}
		want := o.Quantity
		if o.SKU == "fl-card" {
			want = len(issued[id])
			slices.Sort(numbers)
			slices.Sort(issued[id])
			if !slices.Equal(numbers, issued[id]) {
				t.Fatalf("order %s delivered %v, the gateway issued %v", id, numbers, issued[id])
			}
		}
		if got.Status != "delivered" || len(numbers) != want || want == 0 {
			t.Fatalf("order %s (%s ×%d) is %s with %d cards", id, o.SKU, o.Quantity, got.Status, len(numbers))
		}
		if types := first.receiver.Types(id); len(types) == 0 || types[len(types)-1] != "order.delivered" {
			t.Fatalf("order %s: callbacks %v, want the last to be order.delivered", id, types)
		}
	}
	var took []string
	for _, p := range all {
		for _, line := range strings.Split(p.logs(), "\n") {
			if strings.Contains(line, "took over a departed process's work") {
				took = append(took, line)
			}
		}
	}
	if len(took) == 0 {
		t.Error("no process logged taking a departed one's work over: the kills tested nothing")
	}
	t.Logf("takeovers:\n%s", strings.Join(took, "\n"))
	for _, p := range procs {
		p.interrupt(t)
	}
}
