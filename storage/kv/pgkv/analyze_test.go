package pgkv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
)

// TestAYoungTableIsAnalyzedWhenItsWritesReachTheMark writes 999 keys to a
// new table (no ANALYZE yet: pg_stat_user_tables.last_analyze, which
// autovacuum does not set, stays empty), then one more, the 1,000th
// write: the table is analyzed in the background, and Close waits for it.
func TestAYoungTableIsAnalyzedWhenItsWritesReachTheMark(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	put := func(from, to int) {
		t.Helper()
		err := db.Update(func(tx kv.Tx) error {
			b := tx.Bucket(items)
			for i := from; i < to; i++ {
				if err := b.Put(fmt.Appendf(nil, "k%05d", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	analyzed := func() bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var at *time.Time
		if err := db.Pool().QueryRow(ctx, "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'items'").Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at != nil
	}
	put(0, analyzeAt-1)
	time.Sleep(200 * time.Millisecond) // time for an ANALYZE that should not have started
	if analyzed() {
		t.Fatalf("items was analyzed after %d writes, before the mark", analyzeAt-1)
	}
	put(analyzeAt-1, analyzeAt)
	deadline := time.Now().Add(10 * time.Second)
	for !analyzed() {
		if time.Now().After(deadline) {
			t.Fatalf("items not analyzed 10 s after its %dth write", analyzeAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { db.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
