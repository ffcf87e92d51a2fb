package kvtest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"cardflow/storage/kv"
)

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
		return tx.Bucket([]byte(Items)).SetSequence(1 << 40) // as a copy from another engine does
	})
	view(t, db, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte(Items)).Sequence(); got != 1<<40 {
			t.Errorf("after SetSequence(1<<40) the sequence reads %d", got)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		if got, err := tx.Bucket([]byte(Items)).NextSequence(); err != nil || got != 1<<40+1 {
			t.Errorf("NextSequence after SetSequence(1<<40) = %d, %v", got, err)
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
