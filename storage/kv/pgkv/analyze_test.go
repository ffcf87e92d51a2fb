package pgkv

import (
	"context"
	"fmt"
	"strings"
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

// TestEveryRunIsPlannedForItsKeysAndTheTableAsItIsNow: in a bench run
// (auto_explain, pg_stat_statements) the server had settled, after five
// runs of a Prefetch's prepared statement, on a generic plan made while
// the table was young, a walk of the whole bucket, and kept it while the
// table grew to 20,000 keys: 1-3 ms a Prefetch, inside the writer lock,
// all through the run. The DB's connections have every run planned for
// its keys and the table as it is; a URL that chooses otherwise is obeyed.
func TestEveryRunIsPlannedForItsKeysAndTheTableAsItIsNow(t *testing.T) {
	url := pgtest.URL(t)
	mode := func(db *DB) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var m string
		if err := db.Pool().QueryRow(ctx, "SHOW plan_cache_mode").Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mode(openDB(t, url, Options{})); m != "force_custom_plan" {
		t.Errorf("plan_cache_mode = %s, want force_custom_plan", m)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	if m := mode(openDB(t, url+sep+"plan_cache_mode=auto", Options{})); m != "auto" {
		t.Errorf("with plan_cache_mode=auto in the URL: %s", m)
	}
}
