package storage

import (
	"errors"
	"testing"
	"time"
)

func TestBuyerHistorySurvivesRestartAndCrashBeforeFlush(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ids := []string{"id:shop/u1", "ip:203.0.113.9"}
	for i := range 3 {
		must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(ids, at.Add(time.Duration(i)*time.Minute), 1000) }))
	}
	must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerRefund(ids[:1], at.Add(-48*time.Hour)) }))
	features := func(s *Store, now time.Time) Features {
		var f Features
		_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, now); return nil })
		return f
	}
	want := Features{Orders1h: 3, Orders24h: 3, Amount24h: 3000, Refunds30d: 1, FirstSeenDays: 2}
	if f := features(s, at.Add(10*time.Minute)); f != want {
		t.Fatalf("features = %+v, want %+v", f, want)
	}
	// No flush: a crash now loses nothing, the log has it all.
	must(t, s.Close())
	s, err = Open(dir, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := features(s, at.Add(10*time.Minute)); f != want {
		t.Fatalf("after a restart without flush: %+v, want %+v", f, want)
	}
	// A flush a month later writes first sightings and prunes the log: the
	// orders are gone from the windows, the first sighting is not.
	later := at.Add(40 * 24 * time.Hour)
	must(t, s.FlushBuyers(later))
	must(t, s.Close())
	s, err = Open(dir, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if f := features(s, later); f.Orders24h != 0 || f.Refunds30d != 0 || f.FirstSeenDays != 42 {
		t.Fatalf("a month on: %+v", f)
	}
	n := 0
	_ = s.View(func(tx *Tx) error {
		return tx.tx.Bucket(bucketBuyerLog).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	if n != 0 {
		t.Fatalf("%d log records kept past a month", n)
	}
}

func TestBuyerHistoryOfARolledBackWriteIsForgotten(t *testing.T) {
	s, _ := openTest(t)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.RecordBuyerOrder([]string{"id:shop/ghost"}, at, 1000); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var f Features
	_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures([]string{"id:shop/ghost"}, at); return nil })
	if f != (Features{}) {
		t.Fatalf("a rolled-back order shows in the history: %+v", f)
	}
}

func TestOrdersOfOneCommitSeeEachOther(t *testing.T) {
	s, _ := openTest(t)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var f Features
	must(t, s.Update(func(tx *Tx) error {
		for range 4 {
			if err := tx.RecordBuyerOrder([]string{"contact:a@x"}, at, 500); err != nil {
				return err
			}
		}
		f = tx.BuyerFeatures([]string{"contact:a@x"}, at)
		return nil
	}))
	if f.Orders1h != 4 || f.Amount24h != 2000 {
		t.Fatalf("features inside the commit = %+v", f)
	}
}
