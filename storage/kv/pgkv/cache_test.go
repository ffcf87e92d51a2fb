package pgkv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
)

// walk lists a bucket's keys and values in order, through a cursor, as
// "k=v" strings.
func walk(b kv.Bucket) []string {
	var out []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		out = append(out, string(k)+"="+string(v))
	}
	return out
}

// walkBack lists them from the last key back, in order again.
func walkBack(b kv.Bucket) []string {
	var out []string
	c := b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		out = append(out, string(k)+"="+string(v))
	}
	slices.Reverse(out)
	return out
}

// state lists a model's keys and values in order, as walk does.
func state(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func TestAnUpdateReadsWhatThisHandleReadAndWroteWithoutAskingTheDatabase(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	want := map[string]string{}
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for i := range 300 {
			k, v := fmt.Sprintf("k%03d", i), fmt.Sprint("v", i)
			want[k] = v
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		_, err := b.NextSequence()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first walk reads its pages; a key never written is asked once.
	err = db.Update(func(tx kv.Tx) error {
		walk(tx.Bucket(items))
		tx.Bucket(items).Get([]byte("absent"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := db.reads.Load()
	check := func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for k, v := range want {
			if got := string(b.Get([]byte(k))); got != v {
				t.Errorf("Get(%s) = %q, want %q", k, got, v)
			}
		}
		if got := b.Get([]byte("absent")); got != nil {
			t.Errorf("Get(absent) = %q", got)
		}
		if got := walk(b); !slices.Equal(got, state(want)) {
			t.Errorf("the walk shows %d keys, or other values; want the %d committed", len(got), len(want))
		}
		if got := walkBack(b); !slices.Equal(got, state(want)) {
			t.Errorf("the walk back shows %d keys, want %d", len(got), len(want))
		}
		if c := b.Cursor(); string(must2(c.Seek([]byte("k150")))) != "k150" {
			t.Error("Seek(k150) missed it")
		}
		if n := b.Sequence(); n != 1 {
			t.Errorf("Sequence = %d, want 1", n)
		}
		return nil
	}
	if err := db.Update(check); err != nil {
		t.Fatal(err)
	}
	if err := db.View(check); err != nil {
		t.Fatal(err)
	}
	if n := db.reads.Load() - before; n != 0 {
		t.Errorf("reading known keys, ranges and sequences asked the database %d times, want none", n)
	}
}

// must2 keeps the first of two results.
func must2(k, _ []byte) []byte { return k }

func TestTwoHandlesWritingInTurnEachSeeTheOthersWrites(t *testing.T) {
	url := pgtest.URL(t)
	dbs := [2]*DB{openDB(t, url, Options{}), openDB(t, url, Options{})}
	want := map[string]string{}
	for round := range 12 {
		db, other := dbs[round%2], dbs[1-round%2]
		// Each handle reads everything first, so it has it cached when the
		// other writes.
		for _, h := range dbs {
			if err := h.View(func(tx kv.Tx) error { walk(tx.Bucket(items)); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		err := db.Update(func(tx kv.Tx) error {
			b := tx.Bucket(items)
			for i := range 40 {
				k := fmt.Sprintf("k%02d", (i*7+round*3)%60)
				if i%4 == 3 {
					delete(want, k)
					if err := b.Delete([]byte(k)); err != nil {
						return err
					}
					continue
				}
				want[k] = fmt.Sprint(round)
				if err := b.Put([]byte(k), []byte(fmt.Sprint(round))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, read := range readers(other) {
			err := read.run(func(tx kv.Tx) error {
				b := tx.Bucket(items)
				for i := range 60 {
					k := fmt.Sprintf("k%02d", i)
					if got := string(b.Get([]byte(k))); got != want[k] {
						t.Errorf("round %d: the other handle's %s reads %s = %q, want %q", round, read.name, k, got, want[k])
					}
				}
				if got := walk(b); !slices.Equal(got, state(want)) {
					t.Errorf("round %d: the other handle's %s walks %v, want %v", round, read.name, got, state(want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAHandleCatchesUpWithAnothersCommitsAndKeepsTheRestOfItsCache(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openDB(t, url, Options{}), openDB(t, url, Options{})
	want := map[string]string{}
	err := a.Update(func(tx kv.Tx) error {
		bk := tx.Bucket(items)
		for i := range 100 {
			k := fmt.Sprintf("k%03d", i)
			want[k] = "a"
			if err := bk.Put([]byte(k), []byte("a")); err != nil {
				return err
			}
		}
		_, err := bk.NextSequence()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.View(func(tx kv.Tx) error { walk(tx.Bucket(items)); return nil }); err != nil {
		t.Fatal(err)
	}
	// The other handle puts a small value, a large one and an empty one,
	// deletes a key, and counts.
	large := strings.Repeat("b", smallValue+1)
	err = b.Update(func(tx kv.Tx) error {
		bk := tx.Bucket(items)
		for k, v := range map[string]string{"k010": "b", "k011": large, "k012": ""} {
			want[k] = v
			if err := bk.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		delete(want, "k020")
		if err := bk.Delete([]byte("k020")); err != nil {
			return err
		}
		_, err := bk.NextSequence()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Update(func(tx kv.Tx) error {
		bk := tx.Bucket(items)
		before := a.reads.Load()
		for i := range 100 {
			k := fmt.Sprintf("k%03d", i)
			if k == "k011" {
				continue
			}
			if got := string(bk.Get([]byte(k))); got != want[k] {
				t.Errorf("%s = %q, want %q", k, got, want[k])
			}
		}
		if got := bk.Get([]byte("k012")); got == nil {
			t.Error("k012, put empty by the other handle, reads as missing")
		}
		if n := bk.Sequence(); n != 2 {
			t.Errorf("Sequence = %d, want 2", n)
		}
		if n := a.reads.Load() - before; n != 0 {
			t.Errorf("reading keys the other handle did not put, or put small or deleted, and its count asked the database %d times, want none", n)
		}
		// The large value, and the range around it, are read again.
		if got := string(bk.Get([]byte("k011"))); got != large {
			t.Errorf("k011, put large by the other handle, = %q, want %d bytes", got, len(large))
		}
		if got := walk(bk); !slices.Equal(got, state(want)) {
			t.Errorf("the walk shows %d keys, or other values; want the %d committed", len(got), len(want))
		}
		if n := a.reads.Load() - before; n != 2 {
			t.Errorf("the large value and the walk asked the database %d times, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// More commits than a cache catches up with: it starts afresh.
	for i := range maxCatchUp + 1 {
		if err := put(b, "k000", fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	want["k000"] = fmt.Sprint("b", maxCatchUp)
	before := a.reads.Load()
	err = a.Update(func(tx kv.Tx) error {
		if got := walk(tx.Bucket(items)); !slices.Equal(got, state(want)) {
			t.Errorf("the walk after %d commits of the other handle shows %v, want %v", maxCatchUp+1, got, state(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.reads.Load() - before; n == 0 {
		t.Errorf("a cache %d commits behind answered a walk without asking the database", maxCatchUp+1)
	}
	// A commit of more keys than a change lists: caches behind it start
	// afresh too.
	err = b.Update(func(tx kv.Tx) error {
		for i := range maxChanged + 1 {
			if err := tx.Bucket(items).Put([]byte(fmt.Sprintf("k%03d", i)), []byte("many")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Update(func(tx kv.Tx) error {
		if got := string(tx.Bucket(items).Get([]byte("k001"))); got != "many" {
			t.Errorf("k001 after a commit of %d keys = %q, want many", maxChanged+1, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAMalformedChangeMakesACacheStartAfreshAndUpdatesStillWork commits
// by hand, each time with a changelog record pgkv did not make, a new
// value of a key the cache holds: a table index past the names, a record
// cut short inside a name, a name count larger than the record, an
// unknown kind of change, and a key count more or less than the keys. Each record is left out; the cache, finding a
// commit missing, starts afresh, and the next Update reads the new value.
func TestAMalformedChangeMakesACacheStartAfreshAndUpdatesStillWork(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	if err := put(db, "a", "1"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, db, "a"); got != "1" {
		t.Fatalf("a = %q", got)
	}
	for i, rec := range []string{
		"01056974656d7301" + "05000161" + "00", // items, then table 5 of 1
		"0105697465",                           // "ite" of a 5-byte name
		"ffffffff0f",                           // 4,294,967,295 names
		"01056974656d7301" + "00000161" + "07", // kind 7
		"01056974656d7302" + "00000161" + "00", // two keys said, one there
		"01056974656d7300" + "00000161" + "00", // no key said, one there
	} {
		v := strconv.Itoa(2 + 2*i)
		exec(t, url, `BEGIN;
			UPDATE items SET v = '`+v+`' WHERE k = 'a';
			UPDATE kv_clock SET n = n + 1, writer = 1;
			INSERT INTO kv_changelog SELECT n, decode('`+rec+`', 'hex') FROM kv_clock;
			COMMIT`)
		next := strconv.Itoa(3 + 2*i)
		err := db.Update(func(tx kv.Tx) error {
			if got := string(tx.Bucket(items).Get([]byte("a"))); got != v {
				t.Errorf("record %s: a = %q after the commit by hand, want %s", rec, got, v)
			}
			return tx.Bucket(items).Put([]byte("a"), []byte(next))
		})
		if err != nil {
			t.Fatalf("Update after record %s: %v", rec, err)
		}
		if got := get(t, db, "a"); got != next {
			t.Errorf("a = %q, want %s", got, next)
		}
	}
}

var errRollback = errors.New("roll back")

func TestARolledBackUpdateLeavesNoneOfItsWritesInTheCache(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	want := map[string]string{}
	err := db.Update(func(tx kv.Tx) error {
		for i := range 50 {
			k := fmt.Sprintf("k%02d", i)
			want[k] = "committed"
			if err := tx.Bucket(items).Put([]byte(k), []byte("committed")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The writes are read back inside the transaction, through Get and
	// cursors, as the storage writer's later writes in a batch do before one
	// of them fails and the batch is rolled back.
	err = db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		walk(b)
		for _, k := range []string{"k00", "k10", "k49", "new"} {
			if err := b.Put([]byte(k), []byte("rolled back")); err != nil {
				return err
			}
		}
		for _, k := range []string{"k01", "k20"} {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		if got := string(b.Get([]byte("new"))); got != "rolled back" {
			t.Errorf("the transaction reads its own write as %q", got)
		}
		if got := walk(b); len(got) != 49 {
			t.Errorf("the transaction walks %d keys, want 49 (50, one new, two deleted)", len(got))
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want its own error", err)
	}
	for _, read := range readers(db) {
		err := read.run(func(tx kv.Tx) error {
			b := tx.Bucket(items)
			for _, k := range []string{"k00", "k01", "k20", "k49", "new"} {
				if got := string(b.Get([]byte(k))); got != want[k] {
					t.Errorf("%s after the rollback: %s = %q, want %q", read.name, k, got, want[k])
				}
			}
			if got := walk(b); !slices.Equal(got, state(want)) {
				t.Errorf("%s after the rollback walks %d keys, want %d", read.name, len(got), len(want))
			}
			if n := b.Sequence(); n != 0 {
				t.Errorf("%s after the rollback: Sequence = %d, want 0", read.name, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAViewSeesItsSnapshotNotWhatTheCacheLearnedAfterItBegan(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	for _, k := range []string{"a", "b", "c"} {
		if err := put(db, k, "old"); err != nil {
			t.Fatal(err)
		}
	}
	old := []string{"a=old", "b=old", "c=old"}
	err := db.View(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		if got := walk(b); !slices.Equal(got, old) {
			t.Errorf("the view walks %v before the update, want %v", got, old)
		}
		// An update of the same handle commits while the view is open, and
		// fills the cache with what it wrote.
		err := db.Update(func(tx kv.Tx) error {
			ub := tx.Bucket(items)
			if err := ub.Put([]byte("a"), []byte("new")); err != nil {
				return err
			}
			if err := ub.Put([]byte("d"), []byte("new")); err != nil {
				return err
			}
			if err := ub.Delete([]byte("b")); err != nil {
				return err
			}
			walk(ub)
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range []string{"a", "b", "d"} {
			want := map[string]string{"a": "old", "b": "old"}[k]
			if got := string(b.Get([]byte(k))); got != want {
				t.Errorf("the view reads %s = %q after the update, want %q", k, got, want)
			}
		}
		if got := walk(b); !slices.Equal(got, old) {
			t.Errorf("the view walks %v after the update, want %v", got, old)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx kv.Tx) error {
		if got, want := walk(tx.Bucket(items)), []string{"a=new", "c=old", "d=new"}; !slices.Equal(got, want) {
			t.Errorf("a view begun after the update walks %v, want %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAMigrationThatRewritesRowsIsSeenByAnOpenDB(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	if err := put(db, "a", "before"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, db, "a"); got != "before" {
		t.Fatalf("a = %q", got)
	}
	set := files("0001_kvtest.sql", string(must(testFiles.ReadFile("testdata/migrations/0001_kvtest.sql"))),
		"0002_rewrite.sql", "UPDATE items SET v = 'after';")
	if _, err := Migrate(context.Background(), db.Pool(), set); err != nil {
		t.Fatal(err)
	}
	if got := get(t, db, "a"); got != "after" {
		t.Errorf("a View reads a = %q after the migration, want after", got)
	}
	err := db.Update(func(tx kv.Tx) error {
		if got := string(tx.Bucket(items).Get([]byte("a"))); got != "after" {
			t.Errorf("an Update reads a = %q after the migration, want after", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestASmallCacheShedsEntriesAndStillAnswersRight(t *testing.T) {
	const limit = 4 << 10
	url := pgtest.URL(t)
	db := openDB(t, url, Options{CacheBytes: limit})
	writer := openDB(t, url, Options{CacheBytes: -1})
	want := map[string]string{}
	value := strings.Repeat("x", 40)
	for round := range 6 {
		// Both handles write in turn: the small cache is started afresh
		// and filled again.
		w := db
		if round%3 == 2 {
			w = writer
		}
		err := w.Update(func(tx kv.Tx) error {
			b := tx.Bucket(items)
			for i := range 400 {
				k := fmt.Sprintf("k%03d", (i*13+round*101)%500)
				if i%5 == 4 {
					delete(want, k)
					if err := b.Delete([]byte(k)); err != nil {
						return err
					}
					continue
				}
				v := fmt.Sprint(round, value)
				want[k] = v
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, read := range readers(db) {
			err := read.run(func(tx kv.Tx) error {
				b := tx.Bucket(items)
				for pass := range 2 {
					for i := range 500 {
						k := fmt.Sprintf("k%03d", i)
						if got := string(b.Get([]byte(k))); got != want[k] {
							t.Errorf("round %d, %s, pass %d: %s = %q, want %q", round, read.name, pass, k, got, want[k])
						}
					}
					if got := walk(b); !slices.Equal(got, state(want)) {
						t.Errorf("round %d, %s, pass %d: the walk shows %d keys, want %d", round, read.name, pass, len(got), len(want))
					}
					if got := walkBack(b); !slices.Equal(got, state(want)) {
						t.Errorf("round %d, %s, pass %d: the walk back shows %d keys, want %d", round, read.name, pass, len(got), len(want))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			db.cache.mu.Lock()
			size := db.cache.size
			db.cache.mu.Unlock()
			if size > limit {
				t.Errorf("round %d: the cache holds %d bytes, past its bound of %d", round, size, limit)
			}
		}
	}
}

func TestTwoHandlesAgreeWithAModelUnderRandomUpdatesViewsAndRollbacks(t *testing.T) {
	url := pgtest.URL(t)
	// The second handle's cache is small enough to shed entries all the
	// time.
	dbs := [2]*DB{openDB(t, url, Options{}), openDB(t, url, Options{CacheBytes: 6 << 10})}
	committed := map[string]string{}
	// update runs random writes and walks on a random handle, and commits
	// them, or rolls them back one time in four.
	update := func(rng *rand.Rand, label string) {
		t.Helper()
		h := rng.IntN(2)
		m := &model{keys: maps.Clone(committed)}
		rollback := rng.IntN(4) == 0
		label = fmt.Sprintf("%s, update on handle %d (rollback %v)", label, h, rollback)
		err := dbs[h].Update(func(tx kv.Tx) error {
			if err := exercise(t, rng, tx.Bucket(items), m, 40+rng.IntN(200), true, label); err != nil {
				return err
			}
			if rollback {
				return errRollback
			}
			return nil
		})
		switch {
		case rollback && !errors.Is(err, errRollback):
			t.Fatalf("%s: Update = %v, want its own error", label, err)
		case !rollback && err != nil:
			t.Fatalf("%s: %v", label, err)
		case !rollback:
			committed = m.keys
		}
	}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 71))
		for round := range 40 {
			label := fmt.Sprintf("seed %d round %d", seed, round)
			if rng.IntN(3) > 0 {
				update(rng, label)
				continue
			}
			// A view, with an update committed in its middle: it sees its
			// snapshot throughout.
			h := rng.IntN(2)
			snapshot := committed
			label = fmt.Sprintf("%s, view on handle %d", label, h)
			err := dbs[h].View(func(tx kv.Tx) error {
				b := tx.Bucket(items)
				m := &model{keys: maps.Clone(snapshot)}
				if err := exercise(t, rng, b, m, 100, false, label+" before the update"); err != nil {
					return err
				}
				update(rng, label)
				return exercise(t, rng, b, m, 100, false, label+" after the update")
			})
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
		}
		stored(t, dbs[0], committed, fmt.Sprint("seed ", seed))
		stored(t, dbs[1], committed, fmt.Sprint("seed ", seed))
	}
}

// reader is one way to read a DB: an Update or a View.
type reader struct {
	name string
	run  func(func(kv.Tx) error) error
}

// readers are both ways to read db, which the cache serves alike.
func readers(db *DB) []reader { return []reader{{"Update", db.Update}, {"View", db.View}} }
