package storage

import (
	"errors"
	"sync"
	"testing"
	"time"

	"cardflow/internal/money"
	"cardflow/internal/testkit"
)

func change(t *testing.T, s *Store, e LedgerEntry, credit money.Amount) (money.Amount, error) {
	t.Helper()
	var got money.Amount
	err := s.Update(func(tx *Tx) error {
		var err error
		got, err = tx.Balances().Change(&e, credit)
		return err
	})
	return got, err
}

// TestAChargeStopsAtTheCreditLimitAndARefusalChangesNothing: a shop with
// 10.00 and 5.00 of credit can be charged 15.00 in all; the next charge is
// refused and leaves balance and ledger as they were; a refund and an
// operator's debit below the floor are not bounded by it.
func TestAChargeStopsAtTheCreditLimitAndARefusalChangesNothing(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	shop := "cardflow-dj1"
	steps := []struct {
		amount money.Amount
		reason string
		want   money.Amount
		err    error
	}{
		{1000, "top_up", 1000, nil},
		{-900, LedgerOrder, 100, nil},
		{-600, LedgerOrder, -500, nil},                  // into the credit
		{-1, LedgerOrder, -500, ErrInsufficientBalance}, // one fen past it
		{600, LedgerRefund, 100, nil},
		{-10000, "correction", -9900, nil}, // an operator may go below the floor
	}
	for i, st := range steps {
		got, err := change(t, s, LedgerEntry{Storefront: shop, At: at, Amount: st.amount, Reason: st.reason, OrderID: uint64(i)}, 500)
		if !errors.Is(err, st.err) || got != st.want {
			t.Fatalf("step %d (%s %s): balance %s, err %v; want %s, %v", i, st.reason, st.amount, got, err, st.want, st.err)
		}
	}
	var entries []LedgerEntry
	_ = s.View(func(tx *Tx) error {
		entries, _ = tx.Balances().Ledger(shop, 100)
		if b := tx.Balances().Get(shop); b != -9900 {
			t.Errorf("balance = %s, want -99.00", b)
		}
		return nil
	})
	if len(entries) != 5 {
		t.Fatalf("%d ledger entries, want 5 (the refusal leaves none): %+v", len(entries), entries)
	}
	if e := entries[0]; e.Reason != "correction" || e.Balance != -9900 || e.Amount != -10000 || e.OrderID != 5 {
		t.Errorf("newest entry = %+v", e)
	}
	if e := entries[4]; e.Reason != "top_up" || e.Balance != 1000 {
		t.Errorf("oldest entry = %+v", e)
	}
}

// TestConcurrentChargesNeverSpendMoreThanTheBalance: 50 writers race to
// charge 1.00 each from a balance of 20.00 with no credit: exactly 20 win.
func TestConcurrentChargesNeverSpendMoreThanTheBalance(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	if _, err := change(t, s, LedgerEntry{Storefront: "shop", Amount: 2000, Reason: "top_up"}, 0); err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		charged int
	)
	for range 50 {
		wg.Go(func() {
			_, err := change(t, s, LedgerEntry{Storefront: "shop", Amount: -100, Reason: LedgerOrder}, 0)
			switch {
			case err == nil:
				mu.Lock()
				charged++
				mu.Unlock()
			case !errors.Is(err, ErrInsufficientBalance):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if charged != 20 {
		t.Fatalf("%d charges of 1.00 went through on 20.00", charged)
	}
	_ = s.View(func(tx *Tx) error {
		if b := tx.Balances().Get("shop"); b != 0 {
			t.Errorf("balance = %s, want 0.00", b)
		}
		return nil
	})
}

// TestBalancesAndLedgerSurviveAReopen, and a ledger read for one shop
// shows none of another's.
func TestBalancesAndLedgerSurviveAReopen(t *testing.T) {
	dir := t.TempDir()
	s := testkit.OpenStore(t, openTest, dir, Options{})
	for _, e := range []LedgerEntry{{Storefront: "a", Amount: 500, Reason: "top_up"}, {Storefront: "b", Amount: 700, Reason: "top_up"},
		{Storefront: "a", Amount: -200, Reason: LedgerOrder, OrderID: 9}} {
		if _, err := change(t, s, e, 0); err != nil {
			t.Fatal(err)
		}
	}
	testkit.CloseStore(t, s)
	s = testkit.OpenStore(t, openTest, dir, Options{})
	_ = s.View(func(tx *Tx) error {
		all := tx.Balances().All()
		if len(all) != 2 || all["a"] != 300 || all["b"] != 700 {
			t.Errorf("balances after reopen = %v", all)
		}
		a, err := tx.Balances().Ledger("a", 10)
		if err != nil || len(a) != 2 || a[0].OrderID != 9 || a[1].Storefront != "a" {
			t.Errorf("ledger of a = %+v, %v", a, err)
		}
		return nil
	})
}

// TestAChangeWithoutAStorefrontIsRefused.
func TestAChangeWithoutAStorefrontIsRefused(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	if _, err := change(t, s, LedgerEntry{Amount: 100, Reason: "top_up"}, 0); err == nil {
		t.Fatal("a balance change without a storefront was accepted")
	}
}
