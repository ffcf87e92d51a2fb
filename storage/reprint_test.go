package storage_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"cardflow/card"
	"cardflow/storage"
	"cardflow/suppliers/stock"
)

// schema1Key is the master key testdata/schema1.db was written with.
var schema1Key = bytes.Repeat([]byte{7}, 32)

// openSchema1 copies testdata/schema1.db into a fresh data directory. The
// file was written by the storage and suppliers/stock packages of schema 1
// (before card lines were read as CSV): its stock of qb-10 was imported
// from these lines, fingerprinted as that code read them,
//
//	"Q-0004","pw4"     quotes kept in the number; taken by order 1
//	"Q-0005",pw5       taken by order 2
//	"Q-0001","pw1"
//	Q-0002，pw2        full-width comma: number "Q-0002，pw2", no password
//	q-0003 , pw3
//	Q–0006,pw6         an en dash
//	Q-0007,pw7
//	"Q-0007",pw7b      the same card as the line before, stocked twice
//
// and order 3 was delivered a supplier's card "S-\u200b0001" (a zero-width
// space inside), its fingerprint claimed for it.
func openSchema1(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schema1.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, storage.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func parseLine(t *testing.T, line string) card.Card {
	t.Helper()
	c, err := stock.NewReader(strings.NewReader(line)).Next()
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	return c
}

// TestASchema1StoreIsReprintedOnOpen: opening a store written before card
// lines were parsed as CSV and normalised as now recomputes every stored
// fingerprint from the sealed cards (stock, deliveries, purchases), so that
// every spelling of every card it holds is known; a card stocked twice
// under two spellings leaves stock once, audited; the cards in stock are
// resealed as the import reads their lines now; the file says schema 2.
func TestASchema1StoreIsReprintedOnOpen(t *testing.T) {
	dir := openSchema1(t)
	s, err := storage.Open(dir, schema1Key, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type where struct {
		inStock bool
		orderID uint64 // delivered to
	}
	known := map[string]where{
		"Q-0001,pw1":     {inStock: true},
		`"Q-0002","pw2"`: {inStock: true},
		"Q0002，pw2":      {inStock: true},
		"Q-0003":         {inStock: true},
		"Q-0004":         {orderID: 1},
		`"Q-0005"`:       {orderID: 2},
		"q—0006":         {inStock: true},
		"Q-0007,other":   {inStock: true},
		"S-0001,spw":     {orderID: 3},
		"ｓ－０００１":         {orderID: 3},
	}
	report := func(s *storage.Store) {
		t.Helper()
		_ = s.View(func(tx *storage.Tx) error {
			for line, want := range known {
				st, ok := tx.Fingerprint(s.Vault().Fingerprint(parseLine(t, line)))
				switch {
				case !ok:
					t.Errorf("%q is not a known card", line)
				case want.inStock && (!st.InStock || st.SKU != "qb-10"):
					t.Errorf("%q: %+v, want in stock of qb-10", line, st)
				case !want.inStock && (!st.Delivered || st.OrderID != want.orderID):
					t.Errorf("%q: %+v, want delivered to order %d", line, st, want.orderID)
				}
			}
			if lv := tx.StockLevel("qb-10"); lv != 5 {
				t.Errorf("stock level %d, want 5 (the second Q-0007 removed)", lv)
			}
			return nil
		})
	}
	report(s)
	var audit []storage.AuditEntry
	_ = s.View(func(tx *storage.Tx) (err error) { audit, err = tx.AuditLast(10); return err })
	if len(audit) != 1 || audit[0].Action != "stock.duplicates_removed" || audit[0].Target != "qb-10" || !strings.Contains(audit[0].Detail, "1 ") {
		t.Errorf("audit log = %+v, want one entry for the duplicate removed from qb-10", audit)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again changes nothing more.
	s, err = storage.Open(dir, schema1Key, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	report(s)
	_ = s.View(func(tx *storage.Tx) (err error) { audit, err = tx.AuditLast(10); return err })
	if len(audit) != 1 {
		t.Errorf("a second open added audit entries: %+v", audit)
	}
	// The cards in stock read as the import reads their lines now.
	var taken []storage.SealedCard
	if err := s.Update(func(tx *storage.Tx) (err error) { taken, err = tx.TakeStock("qb-10", 5); return err }); err != nil {
		t.Fatal(err)
	}
	cards, err := s.Vault().OpenAll(taken)
	if err != nil {
		t.Fatal(err)
	}
	want := []card.Card{{Number: "Q-0001", Password: "pw1"}, {Number: "Q-0002", Password: "pw2"},
		{Number: "q-0003", Password: "pw3"}, {Number: "Q–0006", Password: "pw6"}, {Number: "Q-0007", Password: "pw7"}}
	if !slices.Equal(cards, want) {
		t.Errorf("stock now holds %q, want %q", numbers(cards), numbers(want))
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, storage.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("schema")); len(v) != 8 || binary.BigEndian.Uint64(v) != 2 {
			t.Errorf("schema = %x, want 2", v)
		}
		return nil
	})
}

func numbers(cards []card.Card) []string {
	out := make([]string, len(cards))
	for i, c := range cards {
		out[i] = c.Number + "/" + c.Password
	}
	return out
}
