package pgkv

import (
	"fmt"
	"testing"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
)

// TestPrefetchReadsManyKeysInOneRoundTrip asks for 2,500 keys, of which
// some are stored (one with an empty value), some missing, one written in
// the same transaction and one empty key, with the cache off so that
// nothing else answers: one round trip (three statements) reads them all,
// and every Get after answers as a Get alone would.
func TestPrefetchReadsManyKeysInOneRoundTrip(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{CacheBytes: -1})
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for i := 0; i < 2500; i += 2 {
			if err := b.Put(fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
				return err
			}
		}
		return b.Put([]byte("empty"), []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		if err := b.Put([]byte("k00001"), []byte("written here")); err != nil {
			return err
		}
		keys := [][]byte{[]byte("empty"), nil}
		for i := range 2500 {
			keys = append(keys, fmt.Appendf(nil, "k%05d", i))
		}
		before := db.reads.Load()
		b.(kv.Prefetcher).Prefetch(keys)
		if n := db.reads.Load() - before; n != 1 {
			t.Errorf("prefetching 2,501 keys took %d round trips, want 1", n)
		}
		before = db.reads.Load()
		if v := b.Get([]byte("empty")); v == nil || len(v) != 0 {
			t.Errorf("the empty value reads %q (nil %v)", v, v == nil)
		}
		if v := string(b.Get([]byte("k00001"))); v != "written here" {
			t.Errorf("a key written in the transaction reads %q", v)
		}
		for i := 2; i < 2500; i++ {
			got, want := b.Get(fmt.Appendf(nil, "k%05d", i)), fmt.Sprintf("v%d", i)
			if i%2 == 1 && got != nil || i%2 == 0 && string(got) != want {
				t.Fatalf("k%05d reads %q", i, got)
			}
		}
		if n := db.reads.Load() - before; n != 0 {
			t.Errorf("the Gets after the prefetch asked the database %d times, want none", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAViewKeepsWhatItPrefetchedWhenTheCacheMovesOn prefetches keys in a
// view (cache on, so the cache takes them), lets an Update of the same
// handle commit meanwhile (the cache moves to the new clock, where the
// view's snapshot no longer matches), and reads them: the view still
// answers from memory, with what its snapshot shows, not the new write.
func TestAViewKeepsWhatItPrefetchedWhenTheCacheMovesOn(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	err := db.Update(func(tx kv.Tx) error {
		return tx.Bucket(items).Put([]byte("a"), []byte("old"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		b.(kv.Prefetcher).Prefetch([][]byte{[]byte("a"), []byte("missing")})
		if err := db.Update(func(tx kv.Tx) error {
			return tx.Bucket(items).Put([]byte("a"), []byte("new"))
		}); err != nil {
			return err
		}
		before := db.reads.Load()
		if v := string(b.Get([]byte("a"))); v != "old" {
			t.Errorf("a reads %q in the view, want its snapshot's old", v)
		}
		if v := b.Get([]byte("missing")); v != nil {
			t.Errorf("missing reads %q", v)
		}
		if n := db.reads.Load() - before; n != 0 {
			t.Errorf("the Gets after the prefetch asked the database %d times, want none", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateReadingReadsAsItTakesTheLock: another handle writes a key
// just before; an Update reading it, a missing key, and 1,500 keys (two
// chunks) as it begins finds them all, new value included, in the one
// round trip that took the lock. Keys of a bucket whose table the handle
// has not used yet are left to fn, which reads them as usual.
func TestUpdateReadingReadsAsItTakesTheLock(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	other := openDB(t, url, Options{})
	var keys [][]byte
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for i := range 1500 {
			keys = append(keys, fmt.Appendf(nil, "k%05d", i))
			if err := b.Put(keys[i], []byte("old")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Update(func(tx kv.Tx) error { return tx.Bucket(items).Put([]byte("k00007"), []byte("new")) }); err != nil {
		t.Fatal(err)
	}
	reads := []kv.Read{{Bucket: items, Keys: append(keys, []byte("missing"))}, {Bucket: []byte("nest"), Keys: keys[:1]}}
	before := db.reads.Load()
	err = db.UpdateReading(reads, func(tx kv.Tx) error {
		if n := db.reads.Load() - before; n != 1 {
			t.Errorf("beginning took %d round trips to read, want 1", n)
		}
		b := tx.Bucket(items)
		for i, k := range keys {
			want := "old"
			if i == 7 {
				want = "new"
			}
			if v := string(b.Get(k)); v != want {
				t.Fatalf("%s reads %q, want %q", k, v, want)
			}
		}
		if v := b.Get([]byte("missing")); v != nil {
			t.Errorf("missing reads %q", v)
		}
		if n := db.reads.Load() - before; n != 1 {
			t.Errorf("the Gets asked the database %d more times, want none", n-1)
		}
		if v := tx.Bucket([]byte("nest")).Get(keys[0]); v != nil {
			t.Errorf("a key of the empty bucket nest reads %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadAheadReadsSeveralBucketsInOneRoundTrip: keys of two buckets, one
// stored in each and one missing, read in one round trip; the Gets after
// ask nothing.
func TestReadAheadReadsSeveralBucketsInOneRoundTrip(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{CacheBytes: -1})
	nest := []byte("nest")
	err := db.Update(func(tx kv.Tx) error {
		if err := tx.Bucket(items).Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		return tx.Bucket(nest).Put([]byte("b"), []byte("2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx kv.Tx) error {
		ia, nb := tx.Bucket(items), tx.Bucket(nest) // tables known: their lookups are not counted
		before := db.reads.Load()
		tx.(kv.ReadAhead).ReadAhead([]kv.Read{{Bucket: items, Keys: [][]byte{[]byte("a"), []byte("x")}}, {Bucket: nest, Keys: [][]byte{[]byte("b")}}})
		if n := db.reads.Load() - before; n != 1 {
			t.Errorf("reading ahead in two buckets took %d round trips, want 1", n)
		}
		if string(ia.Get([]byte("a"))) != "1" || ia.Get([]byte("x")) != nil || string(nb.Get([]byte("b"))) != "2" {
			t.Error("the keys read ahead read wrong")
		}
		if n := db.reads.Load() - before; n != 1 {
			t.Errorf("the Gets asked the database %d more times, want none", n-1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
