package pgkv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
	"cardflow/storage/kv"

	"github.com/jackc/pgx/v5"
)

// TestAYoungTableIsAnalyzedWhenItsWritesReachTheMark writes 999 keys to a
// new table (no ANALYZE yet: pg_stat_user_tables.last_analyze, which
// autovacuum does not set, stays empty), then one more, the 1,000th
// write: the table is analyzed in the background, and Close waits for it.
func TestAYoungTableIsAnalyzedWhenItsWritesReachTheMark(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	put := func(from, to int) { t.Helper(); putKeys(t, db, "k", from, to) }
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

// TestTwoProcessesAnalyzeATableOnce: two DBs on one database (two
// processes) write their shares of a young table, 999 keys each, and then
// one more each: both reach their mark, and the table is analyzed once
// (pg_stat_user_tables.analyze_count, which autovacuum does not count).
// Without the staleness check the second DB analyzed it again.
func TestTwoProcessesAnalyzeATableOnce(t *testing.T) {
	url := pgtest.URL(t)
	one, two := openDB(t, url, Options{}), openDB(t, url, Options{})
	putKeys(t, one, "one", 0, analyzeAt-1)
	putKeys(t, two, "two", 0, analyzeAt-1)
	putKeys(t, one, "one", analyzeAt-1, analyzeAt)
	waitAnalyzed(t, one, 1)
	putKeys(t, two, "two", analyzeAt-1, analyzeAt)
	two.background.Wait() // its ANALYZE, if it started one
	if n := analyzeCount(t, two); n != 1 {
		t.Fatalf("items analyzed %d times, want once", n)
	}
}

// TestATableAnotherProcessAnalyzesIsLeftToIt: while another session holds
// the table's analyze lock (a process analyzing it), a DB that reaches its
// mark does not wait for it or analyze the table again.
func TestATableAnotherProcessAnalyzesIsLeftToIt(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	putKeys(t, db, "k", 0, 1) // the table exists
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	other, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got bool
	if err := other.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1, 'items'::regclass::oid::int)", AnalyzeLock).Scan(&got); err != nil || !got {
		t.Fatalf("taking the analyze lock: %v, %v", got, err)
	}
	putKeys(t, db, "k", 1, analyzeAt)
	db.background.Wait() // the ANALYZE it may have started
	if n := analyzeCount(t, db); n != 0 {
		t.Fatalf("items analyzed %d times while another held its lock, want 0", n)
	}
}

// putKeys writes keys prefix<from>..prefix<to-1> to items in one Update.
func putKeys(t *testing.T, db *DB, prefix string, from, to int) {
	t.Helper()
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		for i := from; i < to; i++ {
			if err := b.Put(fmt.Appendf(nil, "%s%05d", prefix, i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// analyzeCount is how many times items was analyzed other than by
// autovacuum, asked through db's pool.
func analyzeCount(t *testing.T, db *DB) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	if err := db.Pool().QueryRow(ctx, "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'items'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitAnalyzed waits up to 10 s for items' analyze count to reach n.
func waitAnalyzed(t *testing.T, db *DB, n int64) {
	t.Helper()
	if !testkit.Poll(10*time.Second, 20*time.Millisecond, func() bool { return analyzeCount(t, db) >= n }) {
		t.Fatalf("items analyzed %d times after 10 s, want %d", analyzeCount(t, db), n)
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
