package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"cardflow/card"
	"cardflow/internal/testkit"
)

func sealN(t *testing.T, s *Store, prefix string, n int) []SealedCard {
	t.Helper()
	out := make([]SealedCard, n)
	for i := range out {
		sc, err := s.Vault().Seal(card.Card{Number: fmt.Sprintf("%s-%05d", prefix, i), Password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = sc
	}
	return out
}

func TestAddStockCountsDuplicatesAcrossSKUsAndWithinBatch(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	cards := sealN(t, s, "A", 10)
	var added, dups int
	must(t, s.Update(func(tx *Tx) (err error) {
		added, dups, err = tx.AddStock("qb-10", 0, append(cards, cards[0], cards[1]))
		return err
	}))
	if added != 10 || dups != 2 {
		t.Fatalf("first import: added %d dups %d, want 10 and 2", added, dups)
	}
	// The same keys offered for another SKU are still duplicates.
	must(t, s.Update(func(tx *Tx) (err error) {
		added, dups, err = tx.AddStock("steam-50", 0, cards[:5])
		return err
	}))
	if added != 0 || dups != 5 {
		t.Fatalf("other sku: added %d dups %d, want 0 and 5", added, dups)
	}
	_ = s.View(func(tx *Tx) error {
		if tx.StockLevel("qb-10") != 10 || tx.StockLevel("steam-50") != 0 {
			t.Errorf("levels %v", tx.StockLevels())
		}
		st, ok := tx.Fingerprint(cards[3].FP)
		if !ok || !st.InStock || st.SKU != "qb-10" {
			t.Errorf("fingerprint state %+v %v", st, ok)
		}
		return nil
	})
}

func TestTakeStockIsAllOrNothingAndMarksDelivered(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	cards := sealN(t, s, "B", 3)
	must(t, s.Update(func(tx *Tx) error { _, _, err := tx.AddStock("qb-10", 0, cards); return err }))
	err := s.Update(func(tx *Tx) error { _, err := tx.TakeStock("qb-10", 4); return err })
	if !errors.Is(err, ErrStockEmpty) {
		t.Fatalf("take 4 of 3: err = %v", err)
	}
	var got []SealedCard
	must(t, s.Update(func(tx *Tx) (err error) { got, err = tx.TakeStock("qb-10", 2); return err }))
	if len(got) != 2 || got[0].FP != cards[0].FP || got[1].FP != cards[1].FP {
		t.Fatalf("took %d cards, want the two oldest", len(got))
	}
	_ = s.View(func(tx *Tx) error {
		if n := tx.StockLevel("qb-10"); n != 1 {
			t.Errorf("level = %d, want 1", n)
		}
		if st, _ := tx.Fingerprint(cards[2].FP); !st.InStock || st.SKU != "qb-10" {
			t.Errorf("untaken card state %+v", st)
		}
		st, _ := tx.Fingerprint(cards[0].FP)
		if !st.Delivered || st.InStock {
			t.Errorf("taken card state %+v", st)
		}
		return nil
	})
	// A delivered card offered again is a duplicate.
	var added, dups int
	must(t, s.Update(func(tx *Tx) (err error) { added, dups, err = tx.AddStock("qb-10", 0, cards[:1]); return err }))
	if added != 0 || dups != 1 {
		t.Errorf("re-import of delivered card: added %d dups %d", added, dups)
	}
}

func TestConcurrentTakersNeverShareACard(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	const cards, takers = 500, 64
	must(t, s.Update(func(tx *Tx) error { _, _, err := tx.AddStock("qb-10", 0, sealN(t, s, "C", cards)); return err }))
	var mu sync.Mutex
	owner := map[Fingerprint]uint64{}
	var wg sync.WaitGroup
	for id := uint64(1); id <= takers; id++ {
		wg.Go(func() {
			for {
				var got []SealedCard
				err := s.Update(func(tx *Tx) (err error) { got, err = tx.TakeStock("qb-10", 3); return err })
				if errors.Is(err, ErrStockEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, c := range got {
					if prev, ok := owner[c.FP]; ok {
						t.Errorf("card given to %d and %d", prev, id)
					}
					owner[c.FP] = id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owner) != cards-cards%3 {
		t.Errorf("%d cards handed out, want %d", len(owner), cards-cards%3)
	}
}
