package storage

import (
	"errors"
	"sync"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

func readStats(t *testing.T, s *Store, from, to uint32) map[StatKey]int64 {
	t.Helper()
	got := map[StatKey]int64{}
	err := s.View(func(tx *Tx) error {
		tx.Counters().Range(from, to, func(k StatKey, v int64) { got[k] = v })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStatsAddUpAcrossConcurrentWritesAndSkipAFailedOne: 200 writes from 20
// goroutines, sharing commits, each add 1 to one counter and 5 to another;
// a write that fails after adding leaves no trace. Gauges (CounterTx.Set) keep
// the last value; negative deltas work.
func TestStatsAddUpAcrossConcurrentWritesAndSkipAFailedOne(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	slot := Slot(time.Date(2026, 11, 25, 9, 7, 0, 0, time.UTC))
	orders := StatKey{Slot: slot, Metric: MetricOrders, Label: "qb-100"}
	paid := StatKey{Slot: slot, Metric: MetricPaid, Label: "qb-100"}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				err := s.Update(func(tx *Tx) error {
					tx.Counters().Add(orders, 1)
					tx.Counters().Add(paid, 5)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		err := s.Update(func(tx *Tx) error {
			tx.Counters().Add(orders, 1000)
			return errors.New("refused")
		})
		if err == nil {
			t.Error("failing write succeeded")
		}
	})
	wg.Wait()
	err := s.Update(func(tx *Tx) error {
		tx.Counters().Add(StatKey{Slot: slot, Metric: MetricCohort, Label: "pending"}, -300)
		tx.Counters().Set(StatKey{Slot: slot, Metric: MetricBalance, Label: "fulu"}, 7)
		tx.Counters().Set(StatKey{Slot: slot, Metric: MetricBalance, Label: "fulu"}, 9)
		if got := tx.Counters().Get(orders); got != 200 {
			t.Errorf("Stat inside the write = %d", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := readStats(t, s, slot, slot)
	want := map[StatKey]int64{orders: 200, paid: 1000, {Slot: slot, Metric: MetricCohort, Label: "pending"}: -300,
		{Slot: slot, Metric: MetricBalance, Label: "fulu"}: 9}
	if len(got) != len(want) {
		t.Fatalf("counters = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%+v = %d, want %d", k, got[k], v)
		}
	}
}

// TestStatsRangeAndPrune: CounterTx.Range reads only the slots asked for; Prune
// deletes old slots in chunks and never the lifetime slot.
func TestStatsRangeAndPrune(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	err := s.Update(func(tx *Tx) error {
		for slot := uint32(100); slot < 110; slot++ {
			tx.Counters().Add(StatKey{Slot: slot, Metric: MetricOrders}, int64(slot))
			tx.Counters().Add(StatKey{Slot: slot, Metric: MetricSupplierTime, Label: SupplierLabel("fulu", 0)}, 1)
		}
		tx.Counters().Add(StatKey{Slot: LifetimeSlot, Metric: MetricSupplierCost, Label: "fulu"}, 42)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := readStats(t, s, 103, 104); len(got) != 4 || got[StatKey{Slot: 104, Metric: MetricOrders}] != 104 {
		t.Fatalf("slots 103-104: %v", got)
	}
	for {
		var n int
		err := s.Update(func(tx *Tx) error {
			var err error
			n, err = tx.Counters().Prune(105, 3)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if n > 3 {
			t.Fatalf("pruned %d in one chunk of 3", n)
		}
	}
	if got := readStats(t, s, 0, 104); len(got) != 0 {
		t.Fatalf("left before 105: %v", got)
	}
	if got := readStats(t, s, 105, LifetimeSlot); len(got) != 11 || got[StatKey{Slot: LifetimeSlot, Metric: MetricSupplierCost, Label: "fulu"}] != 42 {
		t.Fatalf("left from 105: %v", got)
	}
	name, bucket, ok := SplitSupplierLabel(SupplierLabel("fulu", 0))
	if !ok || name != "fulu" || bucket != 0 {
		t.Fatalf("SplitSupplierLabel = %q %d %v", name, bucket, ok)
	}
	if _, _, ok := SplitSupplierLabel("fulu"); ok {
		t.Fatal("a label without a bucket split")
	}
}

// TestSlotsLineUpWithEveryZonesHours: a local midnight in a zone with a
// half- or quarter-hour offset starts a slot.
func TestSlotsLineUpWithEveryZonesHours(t *testing.T) {
	for _, off := range []int{8 * 3600, 5*3600 + 1800, 5*3600 + 2700, -(3*3600 + 1800)} {
		midnight := time.Date(2026, 11, 25, 0, 0, 0, 0, time.FixedZone("z", off))
		if !SlotTime(Slot(midnight)).Equal(midnight) {
			t.Errorf("offset %ds: midnight %s is not a slot start (%s)", off, midnight, SlotTime(Slot(midnight)))
		}
	}
}
