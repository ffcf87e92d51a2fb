package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/card"
	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
	"cardflow/storage/kv/pgkv"
)

// TestPostgresStockTableHoldsCiphertextOnly: what an operator with a SQL
// prompt sees of own stock is fingerprints and sealed boxes; neither the
// card number nor its password, as text or in any byte string.
func TestPostgresStockTableHoldsCiphertextOnly(t *testing.T) {
	url := pgtest.URL(t)
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret := card.Card{Number: "QB10-PLAIN-NUMBER-4242", Password: "pw-PLAIN-SECRET-4242"}
	sc, err := s.Vault().Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Update(func(tx *Tx) error {
		batch, err := tx.NewStockBatch()
		if err != nil {
			return err
		}
		_, _, err = tx.AddStock("qb-10", batch, []SealedCard{sc})
		return err
	}))
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, table := range []string{"stock", "prints", "orders", "outbox"} {
		rows, err := conn.Query(context.Background(), "SELECT sub, k, v FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var sub, k, v []byte
			if err := rows.Scan(&sub, &k, &v); err != nil {
				t.Fatal(err)
			}
			n++
			for _, plain := range []string{secret.Number, secret.Password, "PLAIN"} {
				if bytes.Contains(bytes.Join([][]byte{sub, k, v}, nil), []byte(plain)) {
					t.Errorf("table %s holds %q in clear", table, plain)
				}
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if table == "stock" && n != 1 {
			t.Errorf("stock table has %d rows, want the 1 card", n)
		}
	}
}

// TestPostgresRefusesAnotherMasterKey: a second process started with a
// different key must not seal new cards with it next to the first's.
func TestPostgresRefusesAnotherMasterKey(t *testing.T) {
	url := pgtest.URL(t)
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other := bytes.Repeat([]byte{9}, 32)
	if s2, err := OpenPostgres(context.Background(), url, other, PostgresOptions{}); !errors.Is(err, ErrMasterKey) {
		if s2 != nil {
			_ = s2.Close()
		}
		t.Fatalf("open with another master key: %v, want ErrMasterKey", err)
	}
}

// TestPostgresStoreIsSharedByTwoOpens: what one process commits, another
// on the same database reads, and an order accepted through one is the
// same order for the other (idempotency holds across processes).
func TestPostgresStoreIsSharedByTwoOpens(t *testing.T) {
	url := pgtest.URL(t)
	a, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := newOrder("shop", "same-ext")
	must(t, a.Update(func(tx *Tx) error { return tx.CreateOrder(o) }))
	dup := newOrder("shop", "same-ext")
	err = b.Update(func(tx *Tx) error {
		if got, err := tx.OrderByExternal("shop", "same-ext"); err == nil {
			dup.ID = got.ID
			return nil
		}
		return tx.CreateOrder(dup)
	})
	if err != nil || dup.ID != o.ID {
		t.Fatalf("the second process sees order %d (err %v), want the first's %d", dup.ID, err, o.ID)
	}
	if a.Size() <= 0 || a.Path() != "" || !a.Postgres() {
		t.Errorf("size %d path %q postgres %v", a.Size(), a.Path(), a.Postgres())
	}
	if _, err := a.Backup(&bytes.Buffer{}, nil); !errors.Is(err, ErrBackupElsewhere) {
		t.Errorf("backup of a PostgreSQL store: %v", err)
	}
}

// openPostgres opens a store on the database url, as one process among
// those sharing it, closed when the test ends.
func openPostgres(t *testing.T, url string) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestPostgresProcessesSeeEachOthersBuyers: a buyer's orders spread over
// two processes count together in each one's buyer history within a few
// seconds (a burst rule must see the burst wherever its orders land), and
// a process's own orders are not counted twice.
func TestPostgresProcessesSeeEachOthersBuyers(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openPostgres(t, url), openPostgres(t, url)
	ids := []string{"contact:burst@example.com"}
	now := time.Now()
	for i := range 3 {
		must(t, a.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(ids, now.Add(time.Duration(i)*time.Millisecond), 1000) }))
	}
	for i := range 2 {
		must(t, b.Update(func(tx *Tx) error {
			return tx.RecordBuyerOrder(ids, now.Add(time.Duration(10+i)*time.Millisecond), 1000)
		}))
	}
	orders := func(s *Store) int {
		var f Features
		_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, now.Add(time.Second)); return nil })
		return f.Orders1h
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if !testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool { return orders(s) >= 5 }) {
			t.Fatalf("process %s counts %d of the buyer's 5 orders", name, orders(s))
		}
		must(t, s.syncBuyers()) // two more looks add nothing
		must(t, s.syncBuyers())
		if got := orders(s); got != 5 {
			t.Errorf("process %s counts %d orders, want 5", name, got)
		}
	}
}

// TestABuyerLookWalksBackOnlyOverWhatIsNew: process b has seen 3,000 of
// process a's buyer records, stamped over the last 3 s. Then a commits five
// more, one stamped 100 ms before the newest record b saw (as a
// transaction that waited for the writer lock stamps its own). b's next
// look walks the log back from the newest record until it has met the five:
// a page or two, where it used to read the whole 10 s window again (16
// round trips in all). Every new record is counted, the late one too.
func TestABuyerLookWalksBackOnlyOverWhatIsNew(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openPostgres(t, url), openPostgres(t, url)
	now := time.Now()
	must(t, a.Update(func(tx *Tx) error {
		for i := range 3000 {
			at := now.Add(time.Duration(i-3000) * time.Millisecond)
			if err := tx.RecordBuyerOrder([]string{fmt.Sprintf("ip:198.51.%d.%d", i/250, i%250)}, at, 100); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, b.syncBuyers())
	late, prompt := []string{"contact:late@example.com"}, []string{"contact:prompt@example.com"}
	must(t, a.Update(func(tx *Tx) error {
		if err := tx.RecordBuyerOrder(late, now.Add(-100*time.Millisecond), 100); err != nil {
			return err
		}
		for i := range 4 {
			if err := tx.RecordBuyerOrder(prompt, now.Add(time.Duration(i)*time.Millisecond), 100); err != nil {
				return err
			}
		}
		return nil
	}))
	db := b.db.(*pgkv.DB)
	before := db.ReadTrips()
	must(t, b.syncBuyers())
	// A look reads the log's sequence, a page or two back and the new
	// buyers' first sightings: 4 round trips at most. b's watch may look
	// once meanwhile, finding nothing new or all of it: 6 in all.
	if n := db.ReadTrips() - before; n > 6 {
		t.Errorf("a look at 5 new buyer records made %d round trips to read, want at most 6", n)
	}
	orders := func(ids []string) int {
		var f Features
		_ = b.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, now.Add(time.Second)); return nil })
		return f.Orders1h
	}
	if got := orders(late); got != 1 {
		t.Errorf("b counts %d orders of the late record's buyer, want 1", got)
	}
	if got := orders(prompt); got != 4 {
		t.Errorf("b counts %d orders of the other buyer, want 4", got)
	}
}

// TestAnotherProcesssBuyerRecordsSayWhoIsNew: process a logs 300 orders,
// 299 of buyers never seen and one of a buyer a flushed three days before.
// Process b's look at them reads no first sightings: the records say which
// buyers were new, as a found them. 300 records of the version before,
// without that, cost the same look one more read round trip, for the
// firstseen bucket. Either way b's rules see what a's see.
func TestAnotherProcesssBuyerRecordsSayWhoIsNew(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openPostgres(t, url), openPostgres(t, url)
	<-b.buyersReady
	b.stopWatch() // only the test's looks
	now := time.Now()
	old := []string{"contact:old@example.com"}
	must(t, a.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(old, now.Add(-72*time.Hour), 100) }))
	must(t, a.FlushBuyers(now))
	must(t, b.syncBuyers())
	log := func(name string, flagged bool) {
		t.Helper()
		must(t, a.Update(func(tx *Tx) error {
			for i := range 300 {
				ids := []string{fmt.Sprintf("ip:%s.%d", name, i)}
				if i == 0 {
					ids = old
				}
				if flagged {
					if err := tx.RecordBuyerOrder(ids, now, 100); err != nil {
						return err
					}
					continue
				}
				r := logRecord{at: now.Unix(), amount: 100, ids: []identity{a.identity(ids[0])}} // no fresh: written unflagged
				bl := tx.appending(bucketBuyerLog)
				seq, err := bl.NextSequence()
				if err != nil {
					return err
				}
				if err := bl.Put(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())), seq), encodeLogRecord(&r)); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	db := b.db.(*pgkv.DB)
	look := func() uint64 {
		t.Helper()
		before := db.ReadTrips()
		must(t, b.syncBuyers())
		return db.ReadTrips() - before
	}
	features := func(id string) Features {
		var f Features
		_ = b.View(func(tx *Tx) error { f = tx.BuyerFeatures([]string{id}, now.Add(time.Second)); return nil })
		return f
	}
	log("10.1.0", true)
	flagged := look()
	log("10.2.0", false)
	unflagged := look()
	if unflagged != flagged+1 {
		t.Errorf("a look at 300 flagged records made %d read round trips, at 300 of the version before %d; want one less", flagged, unflagged)
	}
	if f := features(old[0]); f.FirstSeenDays != 3 || f.Orders1h != 2 {
		t.Errorf("b sees the returning buyer as %+v, want first seen 3 days ago and 2 orders in the hour", f)
	}
	for _, id := range []string{"ip:10.1.0.7", "ip:10.2.0.7"} {
		if f := features(id); f.FirstSeenDays != 0 || f.Orders1h != 1 {
			t.Errorf("b sees the new buyer %s as %+v, want first seen now and 1 order", id, f)
		}
	}
}
