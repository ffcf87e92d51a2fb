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
