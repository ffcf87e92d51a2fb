package kvtest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"cardflow/storage/kv"
)

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
