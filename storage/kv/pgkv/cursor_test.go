package pgkv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
)

// model is what a bucket holds, and where a cursor on it stands, as the
// package documents it: a cursor sees every write of its transaction at
// its next move.
type model struct {
	keys map[string]string
	cur  string // the key the cursor is on or was on
	edge int    // -1 before the first key, +1 after the last, 0 at cur
}

func (m *model) sorted() []string {
	out := make([]string, 0, len(m.keys))
	for k := range m.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// move lands the cursor on k, or off an end if there is none.
func (m *model) move(k string, ok bool, edge int) (string, bool) {
	if !ok {
		m.edge = edge
		return "", false
	}
	m.cur, m.edge = k, 0
	return k, true
}

func (m *model) seek(from string) (string, bool) {
	for _, k := range m.sorted() {
		if k >= from {
			return m.move(k, true, 0)
		}
	}
	return m.move("", false, +1)
}

func (m *model) next() (string, bool) {
	switch m.edge {
	case +1:
		return "", false
	case -1:
		return m.seek("")
	}
	for _, k := range m.sorted() {
		if k > m.cur {
			return m.move(k, true, 0)
		}
	}
	return m.move("", false, +1)
}

func (m *model) prev() (string, bool) {
	switch m.edge {
	case -1:
		return "", false
	case +1:
		ks := m.sorted()
		if len(ks) == 0 {
			return m.move("", false, -1)
		}
		return m.move(ks[len(ks)-1], true, 0)
	}
	ks := m.sorted()
	for i := len(ks) - 1; i >= 0; i-- {
		if ks[i] < m.cur {
			return m.move(ks[i], true, 0)
		}
	}
	return m.move("", false, -1)
}

// modelKey is the model tests' key n: two bytes, big-endian.
func modelKey(n int) string { return string(binary.BigEndian.AppendUint16(nil, uint16(n))) }

// exercise walks a cursor on b through ops random moves, checked against
// m, with (if writable) random writes and reads between them. Writes land
// near the cursor half the time: on its window's edges and on the key it
// stands on, where merging them goes wrong first. label says which run a
// failure is in.
func exercise(t *testing.T, rng *rand.Rand, b kv.Bucket, m *model, ops int, writable bool, label string) error {
	t.Helper()
	m.edge = -1
	target := func() string {
		if rng.IntN(2) == 0 && m.edge == 0 {
			return modelKey(max(0, int(binary.BigEndian.Uint16([]byte(m.cur)))+rng.IntN(300)-20))
		}
		return modelKey(rng.IntN(1000))
	}
	c := b.Cursor()
	k, _ := c.First()
	want, _ := m.seek("")
	if string(k) != want {
		t.Fatalf("%s: First = %x, want %x", label, k, want)
	}
	for op := range ops {
		var what string
		var got []byte
		var gotV []byte
		var want string
		var ok bool
		n := rng.IntN(100)
		if !writable && n < 35 {
			n += 35 // reads only
		}
		switch {
		case n < 20:
			k := target()
			v := fmt.Sprint(label, " put ", op)
			if rng.IntN(2) == 0 {
				// Too large for a change to carry: another handle's cache
				// forgets the key instead of taking its value.
				v += strings.Repeat(".", smallValue)
			}
			m.keys[k] = v
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
			continue
		case n < 30:
			k := target()
			delete(m.keys, k)
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
			continue
		case n < 35:
			err := c.Delete()
			if _, on := m.keys[m.cur]; on && m.edge == 0 {
				if err != nil {
					t.Fatalf("%s op %d: cursor Delete on %x: %v", label, op, m.cur, err)
				}
				delete(m.keys, m.cur)
			} else if err == nil {
				t.Fatalf("%s op %d: cursor Delete off any key = nil", label, op)
			}
			continue
		case n < 40:
			k := modelKey(rng.IntN(1000))
			if got, want := string(b.Get([]byte(k))), m.keys[k]; got != want {
				t.Fatalf("%s op %d: Get(%x) = %q, want %q", label, op, k, got, want)
			}
			continue
		case n < 43:
			what = "Seek"
			to := modelKey(rng.IntN(1000))
			got, gotV = c.Seek([]byte(to))
			want, ok = m.seek(to)
		case n < 45:
			what = "Last"
			got, gotV = c.Last()
			m.edge = +1
			want, ok = m.prev()
		case n < 73:
			what = "Next"
			got, gotV = c.Next()
			want, ok = m.next()
		default:
			what = "Prev"
			got, gotV = c.Prev()
			want, ok = m.prev()
		}
		if (got != nil) != ok || string(got) != want || ok && string(gotV) != m.keys[want] {
			t.Fatalf("%s op %d: %s = %x %q, want %x %q (found %v)", label, op, what, got, gotV, want, m.keys[want], ok)
		}
	}
	return nil
}

// stored checks that db holds exactly m's keys.
func stored(t *testing.T, db kv.DB, m map[string]string, label string) {
	t.Helper()
	var keys []string
	err := db.View(func(tx kv.Tx) error {
		return tx.Bucket(items).ForEach(func(k, v []byte) error {
			if string(v) != m[string(k)] {
				t.Errorf("%s: committed %x = %q, want %q", label, k, v, m[string(k)])
			}
			keys = append(keys, string(bytes.Clone(k)))
			return nil
		})
	})
	want := (&model{keys: m}).sorted()
	if err != nil || !slices.Equal(keys, want) {
		t.Fatalf("%s: committed %d keys, %v; want %d", label, len(keys), err, len(want))
	}
}

func TestCursorsAgreeWithAModelUnderRandomWrites(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 17))
		m := &model{keys: map[string]string{}}
		err := db.Update(func(tx kv.Tx) error {
			b := tx.Bucket(items)
			if err := b.ForEach(func(k, _ []byte) error { return b.Delete(k) }); err != nil {
				return err
			}
			for range 300 {
				k := modelKey(rng.IntN(1000))
				m.keys[k] = "committed"
				if err := b.Put([]byte(k), []byte("committed")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		label := fmt.Sprint("seed ", seed)
		err = db.Update(func(tx kv.Tx) error { return exercise(t, rng, tx.Bucket(items), m, 1500, true, label) })
		if err != nil {
			t.Fatal(err)
		}
		stored(t, db, m.keys, label)
	}
}

func TestACursorSeesItsTransactionsWritesAtItsNextMove(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	err := db.Update(func(tx kv.Tx) error {
		for i := 1; i <= 1000; i++ {
			if err := tx.Bucket(items).Put(binary.BigEndian.AppendUint32(nil, uint32(10*i)), []byte("old")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key := func(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
	err = db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		c := b.Cursor()
		step := func(what string, k []byte, v string, want int, wantV string) {
			t.Helper()
			if !bytes.Equal(k, key(want)) || string(v) != wantV {
				t.Errorf("%s = %x %q, want %d %q", what, k, v, want, wantV)
			}
		}
		k, v := c.First()
		step("First", k, string(v), 10, "old")
		for _, w := range []struct {
			n   int
			put bool
		}{{15, true}, {20, false}, {5, true}, {9995, true}, {9990, false}} {
			var err error
			if w.put {
				err = b.Put(key(w.n), []byte("new"))
			} else {
				err = b.Delete(key(w.n))
			}
			if err != nil {
				return err
			}
		}
		if err := b.Put(key(10), []byte("changed")); err != nil {
			return err
		}
		k, v = c.Next()
		step("Next after a put ahead", k, string(v), 15, "new")
		k, v = c.Next()
		step("Next after a delete ahead", k, string(v), 30, "old")
		c.Prev()
		k, v = c.Prev()
		step("Prev back to the current key changed", k, string(v), 10, "changed")
		k, v = c.Prev()
		step("Prev to a put behind", k, string(v), 5, "new")
		// The first page ended at 320: writes on its last key and the one
		// before show too.
		if err := b.Put(key(320), []byte("edge")); err != nil {
			return err
		}
		if err := b.Delete(key(310)); err != nil {
			return err
		}
		for k, _ = c.Next(); k != nil && bytes.Compare(k, key(300)) < 0; {
			k, _ = c.Next()
		}
		k, v = c.Next()
		step("Next past a key deleted at the page's end", k, string(v), 320, "edge")
		k, v = c.Seek(key(9980))
		step("Seek far", k, string(v), 9980, "old")
		k, v = c.Next()
		step("Next past a key deleted far ahead", k, string(v), 9995, "new")
		k, v = c.Next()
		step("Next to the last", k, string(v), 10000, "old")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
