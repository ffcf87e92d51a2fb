package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"cardflow/storage/kv"

	"cardflow/internal/testkit"
)

func TestBuyerHistorySurvivesRestartAndCrashBeforeFlush(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
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
	s, err = Open(dir, testkit.MasterKey(), Options{})
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
	s, err = Open(dir, testkit.MasterKey(), Options{})
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
	s := testkit.NewStore(t, openTest)
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
	s := testkit.NewStore(t, openTest)
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

// recordDistinctBuyers logs n orders, each from a buyer never seen before,
// a thousand per transaction.
func recordDistinctBuyers(tb testing.TB, s *Store, n int, at time.Time) {
	tb.Helper()
	for start := 0; start < n; start += 1000 {
		must(tb, s.Update(func(tx *Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				if err := tx.RecordBuyerOrder([]string{fmt.Sprintf("id:shop/u%d", i)}, at, 100); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

// TestFlushBuyersWritesEverySightingInChunks: more first sightings than one
// flush transaction takes all reach the firstseen bucket, and nothing is
// left pending.
func TestFlushBuyersWritesEverySightingInChunks(t *testing.T) {
	s, err := Open(t.TempDir(), testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const n = 2*flushChunk + 123
	recordDistinctBuyers(t, s, n, at)
	commits := s.Stats().Commits
	must(t, s.FlushBuyers(at.Add(time.Minute)))
	if got := s.Stats().Commits - commits; got < 3 {
		t.Errorf("flush of %d sightings took %d commits, want them chunked", n, got)
	}
	stored := 0
	_ = s.View(func(tx *Tx) error {
		return tx.tx.Bucket(bucketFirstSeen).ForEach(func(_, _ []byte) error { stored++; return nil })
	})
	if stored != n || len(s.buyers.pending) != 0 {
		t.Fatalf("firstseen holds %d of %d, %d still pending", stored, n, len(s.buyers.pending))
	}
}

// BenchmarkFlushBuyers flushes the first sightings of a busy minute
// (150,000 new identities). Before the flush was sorted and chunked, one
// such flush took over a minute and stalled every write.
func BenchmarkFlushBuyers(b *testing.B) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for range b.N {
		b.StopTimer()
		s, err := Open(b.TempDir(), testkit.MasterKey(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		recordDistinctBuyers(b, s, 150_000, at)
		b.StartTimer()
		must(b, s.FlushBuyers(at.Add(time.Minute)))
		b.StopTimer()
		must(b, s.Close())
		b.StartTimer()
	}
}

// TestReturningBuyerKeepsFirstSighting: a buyer first seen 40 days ago
// (flushed, log pruned) and again 3 days ago (flushed, still in the log)
// orders today: first_seen_days is 40, not the age of the log's oldest
// record of them, before and after a restart.
func TestReturningBuyerKeepsFirstSighting(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ids := []string{"id:shop/old", "contact:old@example.com"}
	record := func(at time.Time) {
		must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(ids, at, 500) }))
	}
	record(now.Add(-40 * day))
	must(t, s.FlushBuyers(now.Add(-40*day+time.Minute)))
	must(t, s.FlushBuyers(now.Add(-3*day))) // the 40-day-old record leaves the log
	record(now.Add(-3 * day))
	must(t, s.FlushBuyers(now.Add(-3*day+2*time.Minute)))
	record(now.Add(-time.Hour))
	check := func(when string) {
		t.Helper()
		var f Features
		_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, now); return nil })
		if f.FirstSeenDays != 40 || f.Orders24h != 1 {
			t.Errorf("%s: features = %+v, want first seen 40 days ago and 1 order today", when, f)
		}
	}
	check("running")
	must(t, s.Close())
	if s, err = Open(dir, testkit.MasterKey(), Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("after a restart")
}

// BenchmarkOpenWithBuyerHistory opens a store whose buyer log holds a day
// of 300,000 orders (900,000 identity sightings, flushed): start-up reads
// the log once to rebuild the index.
func BenchmarkOpenWithBuyerHistory(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	const orders = 300_000
	for start := 0; start < orders; start += 5000 {
		must(b, s.Update(func(tx *Tx) error {
			for i := start; i < start+5000; i++ {
				u := i % 50_000
				ids := []string{fmt.Sprintf("id:shop/u%d", u), fmt.Sprintf("contact:u%d@example.com", u), fmt.Sprintf("ip:10.0.%d.%d", u>>8, u&255)}
				if err := tx.RecordBuyerOrder(ids, at.Add(time.Duration(i)*200*time.Millisecond), 1000); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	must(b, s.FlushBuyers(at.Add(orders*200*time.Millisecond+2*time.Minute)))
	must(b, s.Close())
	b.ResetTimer()
	for range b.N {
		s, err := Open(dir, testkit.MasterKey(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		must(b, s.Close())
		b.StartTimer()
	}
}

// TestBuyerSnapshotIsUsedOnlyWhenItCoversTheLog: a clean shutdown saves
// the index and the next start reads it (same features, no log scan); an
// order logged after that start and a crash (no snapshot written) make
// the snapshot stale, and the next start reads the log and sees the order.
// A damaged snapshot is never decoded into an index.
func TestBuyerSnapshotIsUsedOnlyWhenItCoversTheLog(t *testing.T) {
	dir := t.TempDir()
	open := func() *Store {
		t.Helper()
		s, err := Open(dir, testkit.MasterKey(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ids := []string{"id:shop/u7", "contact:u7@example.com"}
	features := func(s *Store) Features {
		var f Features
		_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, at.Add(30*time.Minute)); return nil })
		return f
	}
	s := open()
	for i := range 4 {
		must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(ids, at.Add(time.Duration(i)*time.Minute), 500) }))
	}
	before := features(s)
	must(t, s.Close())

	s = open()
	if s.loadBuyerSnapshot() == nil {
		t.Fatal("no usable snapshot after a clean shutdown")
	}
	if f := features(s); f != before {
		t.Fatalf("from the snapshot: %+v, want %+v", f, before)
	}
	must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(ids, at.Add(10*time.Minute), 500) }))
	if s.loadBuyerSnapshot() != nil {
		t.Fatal("the snapshot still claims to cover a log that grew")
	}
	<-s.buyersReady // a crash: no snapshot written
	s.w.stop()
	must(t, s.db.Close())

	s = open()
	defer s.Close()
	if f := features(s); f.Orders1h != before.Orders1h+1 {
		t.Fatalf("after the crash: %+v, want one more order than %+v", f, before)
	}

	var snap []byte
	_ = s.db.View(func(tx kv.Tx) error {
		last, _ := tx.Bucket(bucketBuyerLog).Cursor().Last()
		s.buyers.mu.RLock()
		snap = s.buyers.encode(last)
		s.buyers.mu.RUnlock()
		return nil
	})
	for n := range len(snap) {
		if _, _, err := decodeBuyerSnapshot(snap[:n]); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", n, len(snap))
		}
	}
	if _, _, err := decodeBuyerSnapshot(snap); err != nil {
		t.Fatalf("the whole snapshot: %v", err)
	}
}

// TestFlushBuyersPrunesEveryRecordPastTheKeep: the records of a month ago
// all go, none of today's; pruning deletes through a cursor, which must move
// on to the next key after each Delete on every engine.
func TestFlushBuyersPrunesEveryRecordPastTheKeep(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	now := time.Unix(1_800_000_000, 0)
	old := now.Add(-logKeep - time.Hour)
	must(t, s.Update(func(tx *Tx) error {
		for i := range 10 {
			if err := tx.RecordBuyerOrder([]string{fmt.Sprintf("contact:old%d@x", i)}, old.Add(time.Duration(i)*time.Second), 100); err != nil {
				return err
			}
		}
		return tx.RecordBuyerOrder([]string{"contact:new@x"}, now, 100)
	}))
	must(t, s.FlushBuyers(now))
	var left int
	must(t, s.View(func(tx *Tx) error {
		return tx.tx.Bucket(bucketBuyerLog).ForEach(func(_, _ []byte) error { left++; return nil })
	}))
	if left != 1 {
		t.Errorf("%d buyer log records left after pruning, want today's 1", left)
	}
}

// TestBuyerLogRecordsSayWhichIdentitiesWereNew: a record keeps the flags
// its writer found, byte for byte, and a reader tells them from a record
// of the version before, which has none. Inputs: an order with three
// identities (the second new), a refund with none new, a record of 65
// identities (written without flags), the two kinds of the version before,
// and damaged records: an unknown kind, a mask cut short, a stray byte
// after the identities, flags for more than 64 identities.
func TestBuyerLogRecordsSayWhichIdentitiesWereNew(t *testing.T) {
	ids := func(n int) []identity {
		out := make([]identity, n)
		for i := range out {
			out[i][0] = byte(i + 1)
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		in          logRecord
		wantFlagged bool
	}{
		{"order", logRecord{at: 1764979200, amount: 1234, ids: ids(3), fresh: []bool{false, true, false}}, true},
		{"refund", logRecord{at: 1764979201, refund: true, ids: ids(1), fresh: []bool{false}}, true},
		{"65 identities", logRecord{at: 5, amount: 1, ids: ids(65), fresh: make([]bool, 65)}, false},
		{"order of the version before", logRecord{at: 7, amount: 99, ids: ids(2)}, false},
		{"refund of the version before", logRecord{at: 8, refund: true, ids: ids(2)}, false},
	} {
		b := encodeLogRecord(&tc.in)
		got := logRecord{ids: ids(9), fresh: make([]bool, 9)} // leftovers a reused record holds
		flagged, err := decodeLogRecord(b, &got)
		if err != nil || flagged != tc.wantFlagged {
			t.Fatalf("%s: flagged %v, err %v; want flagged %v", tc.name, flagged, err, tc.wantFlagged)
		}
		if got.at != tc.in.at || got.refund != tc.in.refund || got.amount != tc.in.amount || fmt.Sprint(got.ids) != fmt.Sprint(tc.in.ids) {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, got, tc.in)
		}
		if isRefundRecord(b) != tc.in.refund {
			t.Errorf("%s: isRefundRecord = %v", tc.name, !tc.in.refund)
		}
		wantFresh := tc.in.fresh
		if !flagged {
			wantFresh = nil
		}
		if fmt.Sprint(got.fresh) != fmt.Sprint(wantFresh) || (!flagged && len(got.fresh) == len(got.ids)) {
			t.Errorf("%s: fresh %v, want %v", tc.name, got.fresh, wantFresh)
		}
	}
	good := encodeLogRecord(&logRecord{at: 1, amount: 2, ids: ids(1), fresh: []bool{true}})
	tooMany := encodeLogRecord(&logRecord{at: 1, amount: 2, ids: ids(65)}) // the version before's kind…
	tooMany[1] = 'O'                                                       // …called flagged, mask missing
	for name, b := range map[string][]byte{
		"unknown kind":     append(append([]byte{}, good[:1]...), append([]byte{'x'}, good[2:]...)...),
		"mask cut short":   good[:3],
		"a stray byte":     append(append([]byte{}, good...), 0),
		"flags for 65 ids": tooMany,
		"empty":            nil,
	} {
		var r logRecord
		if _, err := decodeLogRecord(b, &r); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err %v, want errCorrupt", name, err)
		}
	}
}

// TestBuyerHistoryOfTheVersionBeforeStillLoads: log records written by the
// version before first-sighting flags, past the last flush, are loaded
// with their first sightings looked up in the firstseen bucket: a buyer
// whose first sighting was flushed keeps it, one never flushed is new.
func TestBuyerHistoryOfTheVersionBeforeStillLoads(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	old, fresh := []string{"contact:old@example.com"}, []string{"contact:new@example.com"}
	must(t, s.Update(func(tx *Tx) error { return tx.RecordBuyerOrder(old, at.Add(-72*time.Hour), 100) }))
	must(t, s.FlushBuyers(at.Add(-71*time.Hour)))
	putOldRecord := func(ids []string, when time.Time) {
		t.Helper()
		must(t, s.Update(func(tx *Tx) error {
			r := logRecord{at: when.Unix(), amount: 100}
			for _, v := range ids {
				r.ids = append(r.ids, s.identity(v))
			}
			b := tx.appending(bucketBuyerLog)
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(when.UnixNano())), seq), encodeLogRecord(&r))
		}))
	}
	putOldRecord(old, at)
	putOldRecord(fresh, at.Add(time.Minute))
	<-s.buyersReady // a crash: no snapshot written, the log is read
	s.w.stop()
	must(t, s.db.Close())
	if s, err = Open(dir, testkit.MasterKey(), Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	features := func(ids []string) Features {
		var f Features
		_ = s.View(func(tx *Tx) error { f = tx.BuyerFeatures(ids, at.Add(2*time.Minute)); return nil })
		return f
	}
	if f := features(old); f.FirstSeenDays != 3 || f.Orders24h != 1 {
		t.Errorf("the returning buyer: %+v, want first seen 3 days ago and 1 order in 24 h", f)
	}
	if f := features(fresh); f.FirstSeenDays != 0 || f.Orders1h != 1 {
		t.Errorf("the new buyer: %+v, want first seen today and 1 order in the hour", f)
	}
}
