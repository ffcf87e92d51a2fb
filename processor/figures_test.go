package processor

import (
	"strings"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/report"
	"cardflow/storage"
)

var shanghai = time.FixedZone("CST", 8*3600)

// localDay is [midnight, next midnight) of a date in Shanghai.
func localDay(y int, m time.Month, d int) (time.Time, time.Time) {
	from := time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	return from, from.AddDate(0, 0, 1)
}

func (f *fixture) figures(from, to time.Time) *report.Figures {
	f.t.Helper()
	fig, err := report.Read(f.store, from, to, shanghai)
	if err != nil {
		f.t.Fatal(err)
	}
	return fig
}

// TestFiguresAreRightAcrossMidnightAndRestart: orders placed at 23:50 in
// Shanghai (one delivered, one delivered then refunded, one waiting for
// stock) count for that day, an order after midnight and a restart counts
// for the next, the hour of the chart holds them, and the day reconciles:
// every paid yuan is delivered, refunded or open, and the open part matches
// the open-order index.
func TestFiguresAreRightAcrossMidnightAndRestart(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.Set(time.Date(2026, 11, 24, 23, 50, 0, 0, shanghai))
	f.importCards("qb-10", "QB", 10)
	a := f.submit("A", "qb-10", 1, 1000)
	b := f.submit("B", "qb-10", 2, 2000)
	c := f.submit("C", "jd-100", 1, 10000) // no jd-100 stock: waits
	f.waitStatus(a.ID, storage.StatusDelivered)
	f.waitStatus(b.ID, storage.StatusDelivered)
	f.clock.Advance(time.Minute)
	if _, err := f.engine.Refund(storage.Actor{Name: "alice", Platform: "test"}, b.ID, "buyer asked"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(19 * time.Minute) // 00:10 the next day
	f.restart()
	d := f.submit("D", "qb-10", 1, 1000)
	f.waitStatus(d.ID, storage.StatusDelivered)

	from, to := localDay(2026, 11, 24)
	day := f.figures(from, to)
	if day.Orders != 3 || day.Paid != 13000 || day.Delivered != 2 || day.DeliveredAmount != 3000 || day.Refunded != 1 ||
		day.RefundedAmount != 2000 || day.Failed != 0 {
		t.Fatalf("24th: orders %d paid %s delivered %d (%s) refunded %d (%s) failed %d", day.Orders, day.Paid,
			day.Delivered, day.DeliveredAmount, day.Refunded, day.RefundedAmount, day.Failed)
	}
	if len(day.Hours) != 24 || day.Hours[23].Orders != 3 || day.Hours[23].Delivered != 2 || day.Hours[22].Orders != 0 {
		t.Fatalf("hours: %d, 23:00 has %+v", len(day.Hours), day.Hours[len(day.Hours)-1])
	}
	if day.Delivery.Count() != 2 || day.Delivery.Quantile(0.95) > time.Second {
		t.Fatalf("delivery times: %d, p95 %s", day.Delivery.Count(), day.Delivery.Quantile(0.95))
	}
	if got := day.Cohort[storage.StatusPending]; got != c.Amount {
		t.Fatalf("cohort pending = %s, want %s", got, c.Amount)
	}
	rec, err := f.counters().Reconcile(day, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Problems) != 0 || rec.Open != 10000 || rec.OpenIndexed != 10000 || rec.OpenOrders != 1 || rec.Delivered != 1000 ||
		rec.Refunded != 2000 {
		t.Fatalf("reconciliation of the 24th: %+v", rec)
	}

	next := f.figures(localDay(2026, 11, 25))
	if next.Orders != 1 || next.Delivered != 1 || next.Refunded != 0 {
		t.Fatalf("25th: orders %d delivered %d refunded %d", next.Orders, next.Delivered, next.Refunded)
	}
	week := f.figures(from.AddDate(0, 0, -5), to.AddDate(0, 0, 1))
	if week.Orders != 4 || len(week.Hours) != 7*24 {
		t.Fatalf("7 days: orders %d, %d hours", week.Orders, len(week.Hours))
	}
}

// TestReconcileFindsAnOrderMissingFromTheOpenIndex: an open order whose
// index entry is gone (what a lost order looks like) makes the day not
// add up, and a mismatch alert is raised once.
func TestReconcileFindsAnOrderMissingFromTheOpenIndex(t *testing.T) {
	f := newFixture(t, nil)
	c := f.submit("C", "jd-100", 1, 5000) // waits for stock
	f.waitStatus(c.ID, storage.StatusPending)
	err := f.store.Update(func(tx *storage.Tx) error {
		o, err := tx.Order(c.ID)
		if err != nil {
			return err
		}
		o.Status = storage.StatusDelivered // out of the open index, without the counters knowing
		return tx.PutOrder(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	day := f.figures(now.Add(-time.Hour), now.Add(time.Hour))
	rec, err := f.counters().Reconcile(day, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Problems) != 1 || !strings.Contains(rec.Problems[0], "open-order index") {
		t.Fatalf("problems: %q", rec.Problems)
	}
	testkit.Eventually(f.t, "reconcile alert", func() bool { return f.alerts.has(alert.Reconcile, false, "open-order index") })
}

// TestBalanceMovementIsReconciledWithPurchases: a supplier's balance that
// falls by what was bought is fine; one that falls by more is a problem.
func TestBalanceMovementIsReconciledWithPurchases(t *testing.T) {
	f := newFixture(t, nil)
	record := func(balance, spent money.Amount) {
		err := f.store.Update(func(tx *storage.Tx) error {
			slot := storage.Slot(f.clock.Now())
			tx.Counters().Set(storage.StatKey{Slot: slot, Metric: storage.MetricBalance, Label: "own"}, int64(balance))
			tx.Counters().Set(storage.StatKey{Slot: slot, Metric: storage.MetricBalanceSpend, Label: "own"}, int64(spent))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	start := f.clock.Now()
	record(100000, 5000) // ¥1000 left, ¥50 spent so far
	f.clock.Advance(time.Hour)
	record(90000, 15000) // ¥100 gone, ¥100 bought: fine
	rec, err := f.counters().Reconcile(f.figures(start, f.clock.Now().Add(time.Minute)), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Problems) != 0 || len(rec.Balances) != 1 || rec.Balances[0].Unexplained != 0 {
		t.Fatalf("balanced: %+v", rec)
	}
	f.clock.Advance(time.Hour)
	record(60000, 16000) // ¥300 more gone, ¥10 bought
	rec, err = f.counters().Reconcile(f.figures(start, f.clock.Now().Add(time.Minute)), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Problems) != 1 || rec.Balances[0].Unexplained != 29000 {
		t.Fatalf("unbalanced: %+v", rec)
	}
}

// counters reads the fixture's counters as the operator layer does.
func (f *fixture) counters() *report.Counters {
	names := make([]string, 0, len(f.opts.Suppliers))
	for _, s := range f.opts.Suppliers {
		names = append(names, s.Name)
	}
	return report.New(f.store, names, f.engine.RaiseAlert)
}
