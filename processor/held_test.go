package processor

import (
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func (f *fixture) stockLevel(sku string) int {
	f.t.Helper()
	levels, err := f.engine.StockLevels()
	if err != nil {
		f.t.Fatal(err)
	}
	return levels[sku]
}

// TestAnUnclaimedOrderIsRefundedAndItsKeysGoBackToStock: a delivered order
// held for claim and never claimed is refunded to the shop after the claim
// period and its key is a stock card again (sold to the next order); a
// claimed one is left alone; one still waiting for stock is refunded.
func TestAnUnclaimedOrderIsRefundedAndItsKeysGoBackToStock(t *testing.T) {
	f := dockingFixture(t, nil)
	f.importCards("qb-10", "UC", 2)
	if _, err := f.engine.AdjustBalance(admin, "dj1", 5000, ""); err != nil {
		t.Fatal(err)
	}
	lost, _, err := f.dockingOrder("ACG-1", "qb-10", 1)
	if err != nil || lost.Status != storage.StatusDelivered {
		t.Fatalf("order: %+v, %v", lost, err)
	}
	kept, _, err := f.dockingOrder("ACG-2", "qb-10", 1)
	if err != nil || kept.Status != storage.StatusDelivered {
		t.Fatalf("order: %+v, %v", kept, err)
	}
	waiting, _, err := f.dockingOrder("ACG-3", "qb-10", 1) // stock is empty now
	if err != nil || waiting.Status != storage.StatusPending {
		t.Fatalf("order: %+v, %v", waiting, err)
	}
	for _, id := range []uint64{lost.ID, kept.ID, waiting.ID} {
		if err := f.engine.HoldForClaim(id, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.engine.Claim(kept.ID); err != nil {
		t.Fatal(err)
	}
	f.engine.ReclaimDue() // within the hour: nothing happens
	if o := f.order(lost.ID); o.Status != storage.StatusDelivered {
		t.Fatalf("reclaimed before its time: %s", o.Status)
	}
	f.clock.Advance(61 * time.Minute)
	f.engine.ReclaimDue()

	o := f.order(lost.ID)
	if o.Status != storage.StatusRefunded || o.Reason != ReasonUnclaimed || len(o.Cards) != 0 {
		t.Fatalf("the unclaimed order: %s %s, %d cards", o.Status, o.Reason, len(o.Cards))
	}
	if o := f.order(kept.ID); o.Status != storage.StatusDelivered || len(o.Cards) != 1 {
		t.Fatalf("the claimed order: %s, %d cards", o.Status, len(o.Cards))
	}
	if o := f.order(waiting.ID); o.Status != storage.StatusRefunded {
		t.Fatalf("the waiting order: %s", o.Status)
	}
	if b := f.balance("dj1"); b != 5000-950 {
		t.Fatalf("balance = %s, want 40.50 (only the claimed order paid)", b)
	}
	if n := f.stockLevel("qb-10"); n != 1 {
		t.Fatalf("stock = %d, want the unclaimed key back", n)
	}
	testkit.Eventually(t, "order_unclaimed alert", func() bool { return f.alerts.has(alert.OrderUnclaimed, false, "1/1") })
	again, _, err := f.dockingOrder("ACG-4", "qb-10", 1)
	if err != nil || again.Status != storage.StatusDelivered {
		t.Fatalf("the returned key sold again: %+v, %v", again, err)
	}
}
