package storage

import (
	"slices"
	"testing"

	"cardflow/internal/testkit"
)

// TestEveryStockCardKnowsItsImportBatch: cards stocked before batches are
// batch 0; each import's cards carry its batch, interleaved imports of one
// SKU and imports of another SKU included, also once taken from stock and
// after going back to stock; upheld claims are listed per batch, newest
// batch first, for their SKU only.
func TestEveryStockCardKnowsItsImportBatch(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	old, first, other, second, more := sealN(t, s, "O", 2), sealN(t, s, "F", 3), sealN(t, s, "X", 2), sealN(t, s, "S", 2), sealN(t, s, "M", 2)
	var b1, b2, b3 uint64
	must(t, s.Update(func(tx *Tx) (err error) {
		if _, _, err = tx.AddStock("qb-10", 0, old); err != nil {
			return err
		}
		if b1, err = tx.NewStockBatch(); err != nil {
			return err
		}
		if b2, err = tx.NewStockBatch(); err != nil {
			return err
		}
		if b3, err = tx.NewStockBatch(); err != nil {
			return err
		}
		if _, _, err = tx.AddStock("qb-10", b1, first); err != nil {
			return err
		}
		if _, _, err = tx.AddStock("qb-100", b3, other); err != nil {
			return err
		}
		if _, _, err = tx.AddStock("qb-10", b2, second); err != nil {
			return err
		}
		_, _, err = tx.AddStock("qb-10", b1, more) // the rest of batch 1, after batch 2's chunk
		return err
	}))
	if b1 != 1 || b2 != 2 || b3 != 3 {
		t.Fatalf("batch ids %d %d %d, want 1 2 3", b1, b2, b3)
	}
	want := func(cards []SealedCard, sku string, batch uint64) {
		t.Helper()
		_ = s.View(func(tx *Tx) error {
			for i, c := range cards {
				if got, b, ok := tx.StockBatchOf(c.FP); !ok || got != sku || b != batch {
					t.Errorf("card %d: %s batch %d (%v), want %s batch %d", i, got, b, ok, sku, batch)
				}
			}
			return nil
		})
	}
	want(old, "qb-10", 0)
	want(first, "qb-10", b1)
	want(other, "qb-100", b3)
	want(second, "qb-10", b2)
	want(more, "qb-10", b1)

	var taken []SealedCard
	must(t, s.Update(func(tx *Tx) (err error) { taken, err = tx.TakeStock("qb-10", 5); return err }))
	want(taken[:2], "qb-10", 0) // the oldest first
	want(taken[2:], "qb-10", b1)
	must(t, s.Update(func(tx *Tx) error {
		// ReturnStock takes cards an order owns; these were taken for order 0.
		n, err := tx.ReturnStock("qb-10", taken[:3], 0)
		if err == nil && n != 3 {
			t.Errorf("returned %d cards, want 3", n)
		}
		return err
	}))
	want(taken[:2], "qb-10", 0)
	want(taken[2:3], "qb-10", b1)
	want(second, "qb-10", b2)

	_ = s.View(func(tx *Tx) error {
		if sku, b, ok := tx.StockBatchOf(Fingerprint{7}); ok {
			t.Errorf("a card never stocked has %s batch %d", sku, b)
		}
		return nil
	})

	must(t, s.Update(func(tx *Tx) error {
		for _, b := range []uint64{b1, b2, b1, 0} {
			if err := tx.AddBatchClaim("qb-10", b); err != nil {
				return err
			}
		}
		return tx.AddBatchClaim("qb-100", b3)
	}))
	_ = s.View(func(tx *Tx) error {
		if got := tx.BatchClaims("qb-10"); !slices.Equal(got, []BatchClaims{{b2, 1}, {b1, 2}, {0, 1}}) {
			t.Errorf("qb-10 batch claims = %v", got)
		}
		if got := tx.BatchClaims("qb-100"); !slices.Equal(got, []BatchClaims{{b3, 1}}) {
			t.Errorf("qb-100 batch claims = %v", got)
		}
		if got := tx.BatchClaims("qb-1"); len(got) != 0 {
			t.Errorf("qb-1 batch claims = %v", got)
		}
		return nil
	})
}
