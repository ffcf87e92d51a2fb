package storage

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cardflow/card"
	"cardflow/internal/testkit"
	"cardflow/storage/kv/boltkv"
)

// schema1Print is a fingerprint as schema 1 made it: its Normalize kept
// every dash but '-' and every invisible character.
func schema1Print(v *Vault, number string) Fingerprint {
	return v.fpMAC.Sum(nil, number)
}

func sealAs(t *testing.T, v *Vault, c card.Card, fp Fingerprint) SealedCard {
	t.Helper()
	sc, err := v.Seal(c)
	if err != nil {
		t.Fatal(err)
	}
	sc.FP = fp
	return sc
}

// downgrade marks a store as schema 1 (as its layout already is).
func downgrade(t *testing.T, dir string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(1)) }))
	must(t, db.Close())
}

// TestReprintMovesOnlyTheEntriesAnOrderOwns builds a schema 1 store of
// orders in every state a card can be in and reprints it: a delivered
// supplier card's entry moves to its new fingerprint; a purchase refused
// as a duplicate of it keeps no entry of its own but its fingerprint
// follows; a supplier's card still being verified gets no entry (its
// delivery will claim one) and a stock card equal to it stays in stock.
func TestReprintMovesOnlyTheEntriesAnOrderOwns(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Vault()
	at := time.Unix(1_764_039_600, 0).UTC()
	delivered := sealAs(t, v, card.Card{Number: "S–1", Password: "p"}, schema1Print(v, "S–1")) // an en dash
	refused := sealAs(t, v, card.Card{Number: "s–1", Password: "q"}, schema1Print(v, "S–1"))
	verifying := sealAs(t, v, card.Card{Number: "V–2"}, schema1Print(v, "V–2"))
	stocked := sealAs(t, v, card.Card{Number: "V—2"}, schema1Print(v, "V—2")) // an em dash
	var idA, idB, idC uint64
	must(t, s.Update(func(tx *Tx) error {
		a := newOrder("shop", "A")
		a.Attempts = []Attempt{{No: "A-0", Supplier: "fulu", State: AttemptSucceeded, SentAt: at, Cards: []SealedCard{delivered}}}
		a.Cards = []SealedCard{delivered}
		a.Move(StatusDelivered, "", System, at)
		b := newOrder("shop", "B")
		b.Attempts = []Attempt{{No: "B-0", Supplier: "fulu", State: AttemptBad, SentAt: at, Cards: []SealedCard{refused}}}
		c := newOrder("shop", "C")
		c.Attempts = []Attempt{{No: "C-0", Supplier: "fulu", State: AttemptVerifying, SentAt: at, Cards: []SealedCard{verifying}}}
		c.Move(StatusProcessing, "", System, at)
		for _, o := range []*Order{a, b, c} {
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
		}
		idA, idB, idC = a.ID, b.ID, c.ID
		if _, _, err := tx.AddStock("qb-10", 0, []SealedCard{stocked}); err != nil {
			return err
		}
		return tx.ClaimFingerprints(a.Cards, a.ID)
	}))
	must(t, s.Close())
	downgrade(t, dir)

	s, err = Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t, s.Check())
	fpS1, fpV2 := v.Fingerprint(card.Card{Number: "S1"}), v.Fingerprint(card.Card{Number: "V2"})
	_ = s.View(func(tx *Tx) error {
		if st, ok := tx.Fingerprint(fpS1); !ok || !st.Delivered || st.OrderID != idA {
			t.Errorf("S–1: %+v %v, want delivered to order %d", st, ok, idA)
		}
		if _, ok := tx.Fingerprint(schema1Print(v, "S–1")); ok {
			t.Error("the schema 1 fingerprint of S–1 is still stored")
		}
		if st, ok := tx.Fingerprint(fpV2); !ok || !st.InStock {
			t.Errorf("V—2: %+v %v, want in stock", st, ok)
		}
		for id, want := range map[uint64]Fingerprint{idA: fpS1, idB: fpS1, idC: fpV2} {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			if got := o.Attempts[0].Cards[0].FP; got != want {
				t.Errorf("order %d's purchase keeps fingerprint %x, want %x", id, got[:4], want[:4])
			}
		}
		if lv := tx.StockLevel("qb-10"); lv != 1 {
			t.Errorf("stock level %d, want 1", lv)
		}
		return nil
	})
}

// TestAnInterruptedReprintResumesAtTheNextOpen: a start that stopped after
// the orders (a crash) leaves the file at schema 2 with the marker set; the
// next Open finishes the stock, and one more reprint changes nothing.
func TestAnInterruptedReprintResumesAtTheNextOpen(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "schema1.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	must(t, os.WriteFile(path, b, 0o600))
	key := make([]byte, 32)
	for i := range key {
		key[i] = 7
	}
	vault, err := NewVault(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	half := &Store{db: boltkv.DB{Bolt: db}, bolt: db, vault: vault}
	if again, err := half.init(); err != nil || !again {
		t.Fatalf("init of a schema 1 file: reprint %v, err %v", again, err)
	}
	must(t, half.reprintOrders())
	must(t, db.Close())

	check := func() {
		t.Helper()
		s, err := Open(dir, key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		must(t, s.Check())
		_ = s.View(func(tx *Tx) error {
			if tx.tx.Bucket(bucketMeta).Get(keyReprinting) != nil {
				t.Error("the reprint marker is still set")
			}
			if v := tx.tx.Bucket(bucketMeta).Get(keySchema); binary.BigEndian.Uint64(v) != schemaVersion {
				t.Errorf("schema %x", v)
			}
			for _, n := range []string{"Q-0001", "Q-0002", "Q-0003", "Q0006", "Q-0007"} {
				if st, ok := tx.Fingerprint(vault.Fingerprint(card.Card{Number: n})); !ok || !st.InStock {
					t.Errorf("%s: %+v, want in stock", n, st)
				}
			}
			if lv := tx.StockLevel("qb-10"); lv != 5 {
				t.Errorf("stock level %d, want 5", lv)
			}
			audit, err := tx.AuditLast(10)
			if err != nil || len(audit) != 1 {
				t.Errorf("audit %+v %v, want one entry", audit, err)
			}
			return nil
		})
	}
	check()
	// Reprinting a reprinted file changes nothing.
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyReprinting, []byte{1}) }))
	must(t, db.Close())
	check()
}

// TestADamagedCardDoesNotKeepAReprintedStoreFromOpening: a card box that
// does not open (damaged on disk) keeps its fingerprint, is counted in the
// audit log, and the store opens.
func TestADamagedCardDoesNotKeepAReprintedStoreFromOpening(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	damaged := SealedCard{FP: Fingerprint{1}, Box: []byte("not a sealed box")}
	must(t, s.Update(func(tx *Tx) error {
		o := newOrder("shop", "DAMAGED")
		o.Cards = []SealedCard{damaged}
		o.Move(StatusDelivered, "", System, time.Unix(2, 0))
		if err := tx.CreateOrder(o); err != nil {
			return err
		}
		_, _, err := tx.AddStock("qb-10", 0, []SealedCard{{FP: Fingerprint{2}, Box: []byte("also damaged")}})
		return err
	}))
	must(t, s.Close())
	downgrade(t, dir)
	s, err = Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatalf("open with a damaged card: %v", err)
	}
	defer s.Close()
	_ = s.View(func(tx *Tx) error {
		audit, _ := tx.AuditLast(10)
		if len(audit) != 2 || audit[0].Action != "cards.unreadable" || audit[1].Action != "cards.unreadable" {
			t.Errorf("audit = %+v, want the unreadable order card and stock card counted", audit)
		}
		if lv := tx.StockLevel("qb-10"); lv != 1 {
			t.Errorf("stock level %d, want the damaged card left where it was", lv)
		}
		return nil
	})
}
