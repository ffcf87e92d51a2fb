// Package kvtest is the kv contract as tests, for every engine to pass:
// an engine's test calls Run with a function that opens an empty store.
package kvtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"cardflow/storage/kv"
)

// The top-level buckets the tests use: an engine whose buckets need a
// schema (pgkv's tables) must have them.
const (
	Items = "items" // keys only
	Nest  = "nest"  // keys and nested buckets
)

// Run runs the contract's tests, each on a store of its own from open.
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	tests := []struct {
		name string
		fn   func(*testing.T, kv.DB)
	}{
		{"a value put reads back, an empty value is not nil and a missing key is", getPut},
		{"a key is required", keyRequired},
		{"delete removes a key and deleting a missing one is no error", deleteKeys},
		{"an update reads its own writes before it commits, cursors too", ownWrites},
		{"an update whose function fails keeps none of its writes", rollback},
		{"cursors walk keys in byte order across pages, both ways, and seek", walk},
		{"cursor delete removes the key it is on and the walk goes on to the next", cursorDelete},
		{"an empty bucket's cursor finds nothing", emptyCursor},
		{"ForEach visits every key in order, skips nested buckets and stops at an error", forEach},
		{"sequences count up per bucket and a failed update gives its numbers back", sequences},
		{"nested buckets are listed in order and kept apart from the top level", nested},
		{"a view keeps the snapshot it began with while an update commits", snapshot},
		{"a read-only transaction refuses writes", readOnly},
		{"a bucket never created is nil", missingBucket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			update(t, db, func(tx kv.Tx) error {
				for _, name := range []string{Items, Nest} {
					if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
						return err
					}
				}
				return nil
			})
			tc.fn(t, db)
		})
	}
}

func update(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func u32(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// pair is a key and its value, as a test expects them.
type pair struct{ k, v string }

// all walks a bucket forward with a cursor. A nested bucket may show as
// its name with a nil value (bbolt's cursors show them); all leaves those
// out.
func all(b kv.Bucket) []pair {
	var out []pair
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			out = append(out, pair{string(k), string(v)})
		}
	}
	return out
}

// keys lists the keys of pairs.
func keys(ps []pair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.k)
	}
	return out
}

func getPut(t *testing.T, db kv.DB) {
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 16<<10)
	// Keys that are prefixes of each other, and the extreme bytes.
	cases := []pair{
		{"\x00", "zero"},
		{"\x00\x00", ""},
		{"\xff", string(big)},
		{"\xff\xff", "\x00"},
		{"a", "A"},
		{"ab", ""},
		{"abc", "\x00\xff"},
	}
	check := func(tx kv.Tx, when string) {
		b := tx.Bucket([]byte(Items))
		for _, c := range cases {
			got := b.Get([]byte(c.k))
			if got == nil || string(got) != c.v {
				t.Errorf("%s: Get(%q) = %d bytes (nil %v), want %d", when, c.k, len(got), got == nil, len(c.v))
			}
		}
		for _, k := range []string{"\x01", "a\x00", "abcd", "b", "\x00\x00\x00"} {
			if got := b.Get([]byte(k)); got != nil {
				t.Errorf("%s: Get(%q) of a key never put = %q, want nil", when, k, got)
			}
		}
		want := []string{"\x00", "\x00\x00", "a", "ab", "abc", "\xff", "\xff\xff"}
		if got := keys(all(b)); !slices.Equal(got, want) {
			t.Errorf("%s: the cursor walks %q, want %q", when, got, want)
		}
	}
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for _, c := range cases {
			if err := b.Put([]byte(c.k), []byte(c.v)); err != nil {
				return err
			}
		}
		check(tx, "in the update")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		check(tx, "after commit")
		return tx.Err()
	})
}

func keyRequired(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for _, k := range [][]byte{nil, {}} {
			if err := b.Put(k, []byte("v")); err == nil {
				t.Errorf("Put(%#v) = nil, want an error", k)
			}
		}
		return nil
	})
}

func deleteKeys(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for _, k := range []string{"a", "b", "c"} {
			if err := b.Put([]byte(k), []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for _, k := range []string{"a", "missing", "c"} {
			if err := b.Delete([]byte(k)); err != nil {
				t.Errorf("Delete(%q): %v", k, err)
			}
		}
		if got := b.Get([]byte("a")); got != nil {
			t.Errorf("Get of a key deleted in this update = %q", got)
		}
		if err := b.Put([]byte("c"), []byte("again")); err != nil {
			return err
		}
		if got := all(b); !slices.Equal(got, []pair{{"b", "b"}, {"c", "again"}}) {
			t.Errorf("in the update the cursor walks %q", got)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := all(tx.Bucket([]byte(Items))); !slices.Equal(got, []pair{{"b", "b"}, {"c", "again"}}) {
			t.Errorf("after commit the cursor walks %q, want b and c put again", got)
		}
		return nil
	})
}

func ownWrites(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for i := range 10 {
			if err := b.Put(u32(i*10), []byte("old")); err != nil {
				return err
			}
		}
		return nil
	})
	var want []pair
	for i := range 10 {
		switch i {
		case 3: // deleted
		case 5: // replaced
			want = append(want, pair{string(u32(50)), "new"})
		default:
			want = append(want, pair{string(u32(i * 10)), "old"})
		}
		if i%2 == 1 { // put between the old keys
			want = append(want, pair{string(u32(i*10 + 5)), "new"})
		}
	}
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for i := 1; i < 10; i += 2 {
			if err := b.Put(u32(i*10+5), []byte("new")); err != nil {
				return err
			}
		}
		if err := b.Delete(u32(30)); err != nil {
			return err
		}
		if err := b.Put(u32(50), []byte("new")); err != nil {
			return err
		}
		if got := string(b.Get(u32(50))); got != "new" {
			t.Errorf("Get of a key replaced in this update = %q", got)
		}
		if got := all(b); !slices.Equal(got, want) {
			t.Errorf("in the update the cursor walks %q\nwant %q", got, want)
		}
		if k, _ := b.Cursor().Seek(u32(30)); !bytes.Equal(k, u32(35)) {
			t.Errorf("Seek to a key deleted in this update = %x, want the key put after it", k)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := all(tx.Bucket([]byte(Items))); !slices.Equal(got, want) {
			t.Errorf("after commit the cursor walks %q\nwant %q", got, want)
		}
		return nil
	})
}

func rollback(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		return b.Put([]byte("kept"), []byte("1"))
	})
	failed := errors.New("the function failed")
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for _, k := range []string{"new", "kept"} {
			if err := b.Put([]byte(k), []byte("2")); err != nil {
				return err
			}
		}
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		if err := b.Delete([]byte("kept")); err != nil {
			return err
		}
		nb, err := tx.Bucket([]byte(Nest)).CreateBucketIfNotExists([]byte("sku"))
		if err != nil {
			return err
		}
		if err := nb.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		if got := all(b); !slices.Equal(got, []pair{{"kept", "1"}}) {
			t.Errorf("after the failed update the bucket holds %q, want kept=1 alone", got)
		}
		if got := b.Sequence(); got != 1 {
			t.Errorf("after the failed update the sequence is %d, want 1", got)
		}
		if nb := tx.Bucket([]byte(Nest)).Bucket([]byte("sku")); nb != nil && nb.Get([]byte("k")) != nil {
			t.Error("the failed update's nested bucket kept its key")
		}
		return nil
	})
}

// walkKeys is how many keys walk puts: more than a page of pgkv's cursor,
// however it grows. The keys are even numbers, so odd ones fall between.
const walkKeys = 700

func walk(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for i := range walkKeys {
			if err := b.Put(u32(2*i), u32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(tx kv.Tx) {
		c := tx.Bucket([]byte(Items)).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, u32(2*n)) || !bytes.Equal(v, u32(n)) {
				t.Fatalf("forward step %d: key %x value %x", n, k, v)
			}
			n++
		}
		if n != walkKeys {
			t.Errorf("forward walk saw %d keys, want %d", n, walkKeys)
		}
		if k, _ := c.Next(); k != nil {
			t.Errorf("Next after the end = %x, want nil", k)
		}
		n = walkKeys
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			n--
			if !bytes.Equal(k, u32(2*n)) {
				t.Fatalf("backward step to %d: key %x", n, k)
			}
		}
		if n != 0 {
			t.Errorf("backward walk stopped at %d, want 0", n)
		}
		if k, _ := c.Prev(); k != nil {
			t.Errorf("Prev before the start = %x, want nil", k)
		}
		seeks := []struct {
			name string
			to   []byte
			want []byte
		}{
			{"exact", u32(800), u32(800)},
			{"between", u32(801), u32(802)},
			{"before the first", []byte{0}, u32(0)},
			{"the last", u32(2 * (walkKeys - 1)), u32(2 * (walkKeys - 1))},
			{"past the end", u32(2*walkKeys - 1), nil},
			{"past every key", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, nil},
		}
		for _, s := range seeks {
			if k, _ := c.Seek(s.to); !bytes.Equal(k, s.want) {
				t.Errorf("Seek %s (%x) = %x, want %x", s.name, s.to, k, s.want)
			}
		}
		// Back from a seek, across pages, to the start.
		n = 0
		for k, _ := c.Seek(u32(1001)); k != nil; k, _ = c.Prev() {
			n++
		}
		if n != 502 {
			t.Errorf("Seek(1001) then Prev to the start saw %d keys, want 502 (1002 and the 501 below)", n)
		}
		// Forth and back across a page's end.
		c.Seek(u32(2 * 40))
		for range 300 {
			c.Next()
		}
		for range 290 {
			c.Prev()
		}
		if k, _ := c.Next(); !bytes.Equal(k, u32(2*51)) {
			t.Errorf("after Seek(80), 300 Next and 290 Prev, Next = %x, want %x", k, u32(2*51))
		}
	}
	view(t, db, func(tx kv.Tx) error {
		check(tx)
		return tx.Err()
	})
	update(t, db, func(tx kv.Tx) error {
		check(tx)
		return tx.Err()
	})
}

func cursorDelete(t *testing.T, db kv.DB) {
	const n = 300
	put := func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		for i := range n {
			if err := b.Put(u32(i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}
	var left []string
	for i := range n {
		if i%3 != 0 {
			left = append(left, string(u32(i)))
		}
	}
	// deleteThirds walks from the first key, deleting every third: the
	// walk must still meet every key in turn.
	deleteThirds := func(tx kv.Tx, when string) {
		b := tx.Bucket([]byte(Items))
		c := b.Cursor()
		seen := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if !bytes.Equal(k, u32(seen)) {
				t.Fatalf("%s: after deleting every third key the walk is at %x, want %x", when, k, u32(seen))
			}
			if seen%3 == 0 {
				if err := c.Delete(); err != nil {
					t.Fatalf("%s: cursor Delete: %v", when, err)
				}
			}
			seen++
		}
		if seen != n {
			t.Errorf("%s: the walk that deleted saw %d keys, want %d", when, seen, n)
		}
		if got := b.Get(u32(3)); got != nil {
			t.Errorf("%s: Get of a key the cursor deleted = %q", when, got)
		}
		if got := keys(all(b)); !slices.Equal(got, left) {
			t.Errorf("%s: a new walk sees %d keys, want %d", when, len(got), len(left))
		}
	}
	// On keys put by the same update, then on keys committed before.
	update(t, db, func(tx kv.Tx) error {
		if err := put(tx); err != nil {
			return err
		}
		deleteThirds(tx, "keys of this update")
		return nil
	})
	update(t, db, put)
	update(t, db, func(tx kv.Tx) error {
		deleteThirds(tx, "keys committed before")
		// Delete, then step back.
		c := tx.Bucket([]byte(Items)).Cursor()
		c.Seek(u32(2))
		if err := c.Delete(); err != nil {
			return err
		}
		if k, _ := c.Prev(); !bytes.Equal(k, u32(1)) {
			t.Errorf("Prev after deleting key 2 = %x, want 1", k)
		}
		return tx.Bucket([]byte(Items)).Put(u32(2), []byte("v"))
	})
	view(t, db, func(tx kv.Tx) error {
		if got := keys(all(tx.Bucket([]byte(Items)))); !slices.Equal(got, left) {
			t.Errorf("after commit the walk sees %d keys, want %d", len(got), len(left))
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte(Items)).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if k, _ := c.First(); k != nil {
			t.Errorf("after deleting every key First = %x", k)
		}
		return nil
	})
}

func emptyCursor(t *testing.T, db kv.DB) {
	view(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte(Items)).Cursor()
		for name, move := range map[string]func() ([]byte, []byte){
			"First": c.First, "Last": c.Last, "Seek": func() ([]byte, []byte) { return c.Seek([]byte("a")) },
		} {
			if k, v := move(); k != nil || v != nil {
				t.Errorf("%s on an empty bucket = %q, %q", name, k, v)
			}
		}
		return nil
	})
}

func forEach(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Nest))
		for _, k := range []string{"c", "a", "b"} {
			if err := b.Put([]byte(k), []byte(k+k)); err != nil {
				return err
			}
		}
		nb, err := b.CreateBucketIfNotExists([]byte("sku"))
		if err != nil {
			return err
		}
		return nb.Put([]byte("inner"), []byte("x"))
	})
	view(t, db, func(tx kv.Tx) error {
		var got []pair
		err := tx.Bucket([]byte(Nest)).ForEach(func(k, v []byte) error {
			got = append(got, pair{string(k), string(v)})
			return nil
		})
		if err != nil || !slices.Equal(got, []pair{{"a", "aa"}, {"b", "bb"}, {"c", "cc"}}) {
			t.Errorf("ForEach saw %q, %v; want a, b, c and not the nested bucket", got, err)
		}
		stop := errors.New("stop")
		n := 0
		err = tx.Bucket([]byte(Nest)).ForEach(func(k, v []byte) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("ForEach whose fn fails = %v after %d calls, want the error after 1", err, n)
		}
		return nil
	})
}

func sequences(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		if got := b.Sequence(); got != 0 {
			t.Errorf("a new bucket's sequence = %d", got)
		}
		for want := uint64(1); want <= 3; want++ {
			if got, err := b.NextSequence(); err != nil || got != want {
				t.Errorf("NextSequence = %d, %v; want %d", got, err, want)
			}
		}
		if got := b.Sequence(); got != 3 {
			t.Errorf("Sequence in the update = %d, want 3", got)
		}
		nb, err := tx.Bucket([]byte(Nest)).CreateBucketIfNotExists([]byte("sku"))
		if err != nil {
			return err
		}
		if got, err := nb.NextSequence(); err != nil || got != 1 {
			t.Errorf("a nested bucket's first NextSequence = %d, %v; want 1", got, err)
		}
		return nil
	})
	failed := errors.New("failed")
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		if got, err := b.NextSequence(); err != nil || got != 4 {
			t.Errorf("NextSequence in the next update = %d, %v; want 4", got, err)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update = %v", err)
	}
	update(t, db, func(tx kv.Tx) error {
		if got, err := tx.Bucket([]byte(Items)).NextSequence(); err != nil || got != 4 {
			t.Errorf("NextSequence after a failed update = %d, %v; want 4 again", got, err)
		}
		if got := tx.Bucket([]byte(Nest)).Bucket([]byte("sku")).Sequence(); got != 1 {
			t.Errorf("the nested bucket's sequence = %d, want 1", got)
		}
		if got := tx.Bucket([]byte(Nest)).Sequence(); got != 0 {
			t.Errorf("its parent's sequence = %d, want 0", got)
		}
		return nil
	})
}

func nested(t *testing.T, db kv.DB) {
	names := []string{"sku-b", "\x00bin", "sku-a", "sku-a\x00"}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	fill := func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Nest))
		if err := b.Put([]byte("k"), []byte("top")); err != nil {
			return err
		}
		for _, name := range names {
			nb, err := b.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			for _, k := range []string{"k", name} {
				if err := nb.Put([]byte(k), []byte(name)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	check := func(tx kv.Tx, when string) {
		b := tx.Bucket([]byte(Nest))
		var got []string
		err := b.ForEachBucket(func(name []byte) error {
			got = append(got, string(name))
			return nil
		})
		if err != nil || !slices.Equal(got, sorted) {
			t.Errorf("%s: ForEachBucket lists %q, %v; want %q", when, got, err, sorted)
		}
		if got := all(b); !slices.Equal(got, []pair{{"k", "top"}}) {
			t.Errorf("%s: the top level's cursor walks %q, want its own key alone", when, got)
		}
		if got := string(b.Get([]byte("k"))); got != "top" {
			t.Errorf("%s: the top level's k = %q", when, got)
		}
		for _, name := range names {
			nb := b.Bucket([]byte(name))
			if nb == nil {
				t.Errorf("%s: Bucket(%q) = nil", when, name)
				continue
			}
			want := []pair{{"k", name}, {name, name}}
			slices.SortFunc(want, func(a, b pair) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
			if got := all(nb); !slices.Equal(got, want) {
				t.Errorf("%s: nested bucket %q walks %q, want %q", when, name, got, want)
			}
		}
		if nb := b.Bucket([]byte("never")); nb != nil {
			if k, _ := nb.Cursor().First(); k != nil || nb.Get([]byte("k")) != nil {
				t.Errorf("%s: a nested bucket never created has keys", when)
			}
		}
		stop := errors.New("stop")
		if err := b.ForEachBucket(func([]byte) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("%s: ForEachBucket whose fn fails = %v", when, err)
		}
	}
	update(t, db, func(tx kv.Tx) error {
		if err := fill(tx); err != nil {
			return err
		}
		check(tx, "in the update")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		check(tx, "after commit")
		return tx.Err()
	})
}

func snapshot(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		return tx.Bucket([]byte(Items)).Put([]byte("a"), []byte("1"))
	})
	// One view reads before the update commits, the other only after: both
	// see the store as it was when they began.
	for i, readFirst := range []bool{true, false} {
		began, committed := make(chan struct{}), make(chan error, 1)
		go func() {
			<-began
			committed <- db.Update(func(tx kv.Tx) error {
				b := tx.Bucket([]byte(Items))
				if _, err := b.NextSequence(); err != nil {
					return err
				}
				if err := b.Put([]byte("b"), []byte("new")); err != nil {
					return err
				}
				return b.Put([]byte("a"), append([]byte("2"), b.Get([]byte("a"))...))
			})
		}()
		view(t, db, func(tx kv.Tx) error {
			var before []pair
			if readFirst {
				before = all(tx.Bucket([]byte(Items)))
			}
			close(began)
			if err := <-committed; err != nil {
				t.Fatalf("the update beside the view: %v", err)
			}
			b := tx.Bucket([]byte(Items))
			if readFirst && !slices.Equal(all(b), before) {
				t.Errorf("the view read %q before the update and %q after", before, all(b))
			}
			if got := b.Get([]byte("b")); got != nil {
				t.Errorf("the view (read first %v) sees the update's new key", readFirst)
			}
			if got := b.Sequence(); got != uint64(i) {
				t.Errorf("the view (read first %v) sees sequence %d, want %d", readFirst, got, i)
			}
			return nil
		})
		update(t, db, func(tx kv.Tx) error { return tx.Bucket([]byte(Items)).Delete([]byte("b")) })
	}
	view(t, db, func(tx kv.Tx) error {
		if got := string(tx.Bucket([]byte(Items)).Get([]byte("a"))); got != "221" {
			t.Errorf("after both updates a = %q, want 221", got)
		}
		return nil
	})
}

func readOnly(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		return tx.Bucket([]byte(Items)).Put([]byte("a"), []byte("1"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(Items))
		c := b.Cursor()
		c.First()
		writes := map[string]func() error{
			"Put":    func() error { return b.Put([]byte("b"), []byte("2")) },
			"Delete": func() error { return b.Delete([]byte("a")) },
			"NextSequence": func() error {
				_, err := b.NextSequence()
				return err
			},
			"CreateBucketIfNotExists": func() error {
				_, err := tx.CreateBucketIfNotExists([]byte(Items))
				return err
			},
			"nested CreateBucketIfNotExists": func() error {
				_, err := b.CreateBucketIfNotExists([]byte("sku"))
				return err
			},
			"cursor Delete": c.Delete,
		}
		for name, w := range writes {
			if err := w(); err == nil {
				t.Errorf("%s in a view = nil, want an error", name)
			}
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := all(tx.Bucket([]byte(Items))); !slices.Equal(got, []pair{{"a", "1"}}) {
			t.Errorf("after the refused writes the bucket holds %q", got)
		}
		return nil
	})
}

func missingBucket(t *testing.T, db kv.DB) {
	check := func(tx kv.Tx) error {
		if b := tx.Bucket([]byte("absent")); b != nil {
			t.Errorf("Bucket of one never created = %v, want nil", b)
		}
		return tx.Err()
	}
	view(t, db, check)
	update(t, db, check)
}

// BenchUpdate measures one Update of 500 Gets of committed keys and 500
// Puts of new ones (small values), about what one group commit of the
// storage writer does.
func BenchUpdate(b *testing.B, db kv.DB) {
	const batch = 500
	value := bytes.Repeat([]byte("v"), 100)
	if err := db.Update(func(tx kv.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(Items))
		if err != nil {
			return err
		}
		for i := range batch {
			if err := bk.Put(u32(i), value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	next := batch
	for b.Loop() {
		err := db.Update(func(tx kv.Tx) error {
			bk := tx.Bucket([]byte(Items))
			for i := range batch {
				if bk.Get(u32(i)) == nil {
					return errors.New("a committed key reads as missing")
				}
			}
			for range batch {
				if err := bk.Put(u32(next), value); err != nil {
					return err
				}
				next++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
