package kvtest

import (
	"bytes"
	"errors"
	"testing"

	"cardflow/storage/kv"
)

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
