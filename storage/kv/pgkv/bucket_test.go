package pgkv

import (
	"strings"
	"testing"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
)

func TestBucketsNeedATableAndANameATableCanHave(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	err := db.Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("ghost"))
		if err == nil || !strings.Contains(err.Error(), `"ghost"`) || !strings.Contains(err.Error(), "schema not migrated") {
			t.Errorf("CreateBucketIfNotExists(ghost) = %v, want an error naming the table", err)
		}
		for _, name := range []string{"Items", "kv_sequences", "schema_migrations", "a-b", "", "1st", strings.Repeat("a", 64)} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err == nil {
				t.Errorf("CreateBucketIfNotExists(%q) = nil, want an error", name)
			}
			if b := tx.Bucket([]byte(name)); b != nil {
				t.Errorf("Bucket(%q) = %v, want nil", name, b)
			}
		}
		nb, err := tx.Bucket(items).CreateBucketIfNotExists([]byte("sku"))
		if err != nil {
			return err
		}
		if _, err := nb.CreateBucketIfNotExists([]byte("deeper")); err == nil {
			t.Error("a bucket nested two deep was created")
		}
		if _, err := tx.Bucket(items).CreateBucketIfNotExists(nil); err == nil {
			t.Error("a nested bucket without a name was created")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestANestedBucketIsListedWhileItHasAKeyOrASequence(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for _, name := range []string{"created", "keyed", "counted"} {
			if _, err := b.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		if err := b.Bucket([]byte("keyed")).Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		_, err := b.Bucket([]byte("counted")).NextSequence()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	err = db.View(func(tx kv.Tx) error {
		return tx.Bucket(items).ForEachBucket(func(name []byte) error {
			names = append(names, string(name))
			return nil
		})
	})
	if err != nil || strings.Join(names, " ") != "counted keyed" {
		t.Errorf("ForEachBucket lists %q, %v; want counted and keyed, not the empty one", names, err)
	}
}
