package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv/pgkv"
)

// TestABatchOfIntakesReadsItsLookupsAsItTakesTheLock commits 40 intake
// writes in one batch on PostgreSQL. Each looks up its external id (one
// is taken by an order stored before) and its buyer's three identities
// (one buyer was first seen ten days ago): 160 keys, which without the
// look-ahead cost a round trip each inside the writer lock. With it they
// are read in the round trip that takes the lock, and every write still
// finds what is there.
func TestABatchOfIntakesReadsItsLookupsAsItTakesTheLock(t *testing.T) {
	s := openPostgres(t, pgtest.URL(t))
	now := time.Now()
	intake := func(i int) *Order {
		return &Order{Storefront: "shop1", ExternalID: fmt.Sprintf("T%d", i), SKU: "qb-10", Quantity: 1,
			Buyer: Buyer{ID: fmt.Sprintf("u-%d", i), Contact: fmt.Sprintf("b%d@example.com", i), IP: fmt.Sprintf("203.0.113.%d", i)}}
	}
	must(t, s.Update(func(tx *Tx) error {
		if err := tx.CreateOrder(intake(7)); err != nil {
			return err
		}
		id := tx.identity(BuyerIdentities(intake(9))[0])
		return tx.tx.Bucket(bucketFirstSeen).Put(id[:], binary.AppendVarint(nil, now.Add(-10*24*time.Hour).Unix()))
	}))

	found := make([]bool, 40)
	firstSeenDays := make([]int, 40)
	batch := make([]*writeReq, 40)
	for i := range batch {
		o := intake(i)
		batch[i] = &writeReq{intake: o, errc: make(chan error, 1), fn: func(tx *Tx) error {
			_, err := tx.OrderByExternal(o.Storefront, o.ExternalID)
			found[i] = err == nil
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			firstSeenDays[i] = tx.BuyerFeatures(BuyerIdentities(o), now).FirstSeenDays
			return nil
		}}
	}
	db := s.db.(*pgkv.DB)
	before := db.ReadTrips()
	s.w.commit(batch)
	if n := db.ReadTrips() - before; n != 1 {
		t.Errorf("a batch of 40 intakes made %d round trips to read, want 1 (the one that takes the lock)", n)
	}
	for i, r := range batch {
		if err := <-r.errc; err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if found[i] != (i == 7) {
			t.Errorf("T%d found %v", i, found[i])
		}
		if want := map[bool]int{true: 10}[i == 9]; firstSeenDays[i] != want {
			t.Errorf("buyer u-%d first seen %d days ago, want %d", i, firstSeenDays[i], want)
		}
	}
}

// TestFlushingFirstSightingsLooksThemUpTogether records orders of 2,500
// new buyers (one identity each) and flushes their first sightings on
// PostgreSQL: the flush looks the 2,500 keys up in one round trip, not one
// each under the writer lock (the prune of the buyer log after it reads a
// page: two in all), and writes every one.
func TestFlushingFirstSightingsLooksThemUpTogether(t *testing.T) {
	s := openPostgres(t, pgtest.URL(t))
	now := time.Now()
	must(t, s.Update(func(tx *Tx) error {
		for i := range 2500 {
			if err := tx.RecordBuyerOrder([]string{fmt.Sprintf("ip:198.51.%d.%d", i/250, i%250)}, now, 100); err != nil {
				return err
			}
		}
		return nil
	}))
	db := s.db.(*pgkv.DB)
	before := db.ReadTrips()
	must(t, s.FlushBuyers(now))
	if n := db.ReadTrips() - before; n > 2 {
		t.Errorf("flushing 2,500 first sightings made %d round trips to read, want 2", n)
	}
	n := 0
	must(t, s.View(func(tx *Tx) error {
		return tx.tx.Bucket(bucketFirstSeen).ForEach(func(k, v []byte) error { n++; return nil })
	}))
	if n != 2500 {
		t.Errorf("%d first sightings stored, want 2500", n)
	}
}
