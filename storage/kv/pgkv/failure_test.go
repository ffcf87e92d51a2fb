package pgkv

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
	"cardflow/storage/kv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var items = []byte("items")

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// withParam adds a connection parameter to a URL.
func withParam(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func put(db kv.DB, k, v string) error {
	return db.Update(func(tx kv.Tx) error { return tx.Bucket(items).Put([]byte(k), []byte(v)) })
}

// get reads a key in a view; "" for a missing one.
func get(t *testing.T, db kv.DB, k string) string {
	t.Helper()
	var v []byte
	if err := db.View(func(tx kv.Tx) error {
		v = bytes.Clone(tx.Bucket(items).Get([]byte(k)))
		return nil
	}); err != nil {
		t.Fatalf("view: %v", err)
	}
	return string(v)
}

func TestTwoProcessesIncrementingOneKeyLoseNone(t *testing.T) {
	url := pgtest.URL(t)
	dbs := []*DB{openDB(t, url, Options{}), openDB(t, url, Options{})}
	const workers, rounds = 3, 30
	var mu sync.Mutex
	var seqs []uint64
	var wg sync.WaitGroup
	for _, db := range dbs {
		for range workers {
			wg.Go(func() {
				for range rounds {
					var seq uint64
					err := db.Update(func(tx kv.Tx) error {
						b := tx.Bucket(items)
						var n uint64
						if v := b.Get([]byte("n")); v != nil {
							n = binary.BigEndian.Uint64(v)
						}
						var err error
						if seq, err = b.NextSequence(); err != nil {
							return err
						}
						return b.Put([]byte("n"), u64(n+1))
					})
					if err != nil {
						t.Errorf("update: %v", err)
						return
					}
					mu.Lock()
					seqs = append(seqs, seq)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	const total = 2 * workers * rounds
	if got := binary.BigEndian.Uint64([]byte(get(t, dbs[1], "n"))); got != total {
		t.Errorf("the counter reads %d after %d increments", got, total)
	}
	slices.Sort(seqs)
	if len(slices.Compact(seqs)) != total || seqs[len(seqs)-1] != total {
		t.Errorf("NextSequence handed out %d distinct numbers up to %d, want 1 to %d once each", len(seqs), seqs[len(seqs)-1], total)
	}
}

func TestAConnectionKilledMidTransactionGivesErrUnavailableAndTheNextUpdateWorks(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, withParam(t, url, "application_name", "victim"), Options{MaxConns: 4})
	if err := put(db, "a", "1"); err != nil {
		t.Fatal(err)
	}
	// Four connections in the pool, every one to be killed with the one in use.
	var conns []interface{ Release() }
	for range 4 {
		c, err := db.Pool().Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(items)
		if got := string(b.Get([]byte("a"))); got != "1" {
			t.Errorf("a = %q before the kill", got)
		}
		if n := pgtest.Terminate(t, url, "victim"); n != 4 {
			t.Errorf("terminated %d sessions, want the pool's 4", n)
		}
		if got := b.Get([]byte("b")); got != nil {
			t.Errorf("a read after the kill = %q, want nil", got)
		}
		if !errors.Is(tx.Err(), kv.ErrUnavailable) {
			t.Errorf("Err after the kill = %v, want ErrUnavailable", tx.Err())
		}
		// A bucket not yet looked up: its table cannot be asked for now.
		if nb := tx.Bucket([]byte("nest")); nb == nil || nb.Get([]byte("a")) != nil {
			t.Errorf("a bucket first asked for after the kill = %v, want one whose reads are nil", nb)
		}
		return b.Put([]byte("a"), []byte("2"))
	})
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Update = %v, want ErrUnavailable", err)
	}
	if err := put(db, "a", "3"); err != nil {
		t.Fatalf("the next update, without reopening: %v", err)
	}
	if got := get(t, db, "a"); got != "3" {
		t.Errorf("a = %q, want 3", got)
	}
}

func TestTheDatabaseUnreachableIsErrUnavailableAndWorkResumesWhenItReturns(t *testing.T) {
	p := pgtest.NewProxy(t, pgtest.URL(t))
	db := openDB(t, p.URL(), Options{})
	if err := put(db, "a", "1"); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if err := put(db, "a", "2"); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Update while cut off = %v, want ErrUnavailable", err)
	}
	if err := db.View(func(kv.Tx) error { return nil }); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("View while cut off = %v, want ErrUnavailable", err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Ping while cut off = %v, want ErrUnavailable", err)
	}
	p.Restore()
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("Ping once restored: %v", err)
	}
	if err := put(db, "a", "3"); err != nil {
		t.Fatalf("Update once restored: %v", err)
	}
	if got := get(t, db, "a"); got != "3" {
		t.Errorf("a = %q, want 3", got)
	}
}

func TestACommitWhoseAnswerIsLostWaitsOutTheOutageAndReportsTheTruth(t *testing.T) {
	cases := []struct {
		name    string
		applied bool
		// lose breaks the connection around sending the commit's batch
		// (send), with the proxy and a direct URL to watch the database by.
		lose func(t *testing.T, p *pgtest.Proxy, direct string, pc *pgconn.PgConn, send func() pgx.BatchResults) pgx.BatchResults
	}{
		{"COMMIT applied, its answer lost", true, func(t *testing.T, p *pgtest.Proxy, direct string, pc *pgconn.PgConn, send func() pgx.BatchResults) pgx.BatchResults {
			br := send()
			if !testkit.Poll(testkit.WaitLimit, 5*time.Millisecond, func() bool { return committed(t, direct) }) {
				t.Error("the COMMIT sent never applied")
			}
			// The answer may be on its way or already in the client's
			// socket: both go.
			p.Cut()
			pc.Conn().Close()
			return br
		}},
		{"the connection cut before COMMIT", false, func(t *testing.T, p *pgtest.Proxy, direct string, _ *pgconn.PgConn, send func() pgx.BatchResults) pgx.BatchResults {
			p.Cut()
			return send()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			direct := pgtest.URL(t)
			p := pgtest.NewProxy(t, direct)
			db := openDB(t, p.URL(), Options{})
			// The key's old value is in the cache.
			if err := put(db, "k", "old"); err != nil {
				t.Fatal(err)
			}
			if got := get(t, db, "k"); got != "old" {
				t.Fatalf("k = %q before", got)
			}
			db.breakCommit = func(pc *pgconn.PgConn, send func() pgx.BatchResults) pgx.BatchResults {
				return tc.lose(t, p, direct, pc, send)
			}
			done := make(chan error, 1)
			go func() { done <- put(db, "k", "v") }()
			// The outcome is asked for again and again while the database
			// cannot be reached, and not answered.
			testkit.Eventually(t, "three tries to reach the database", func() bool { return p.Refused() >= 3 })
			select {
			case err := <-done:
				t.Fatalf("Update answered %v while the database could not be reached", err)
			default:
			}
			p.Restore()
			var err error
			select {
			case err = <-done:
			case <-time.After(testkit.WaitLimit):
				t.Fatal("Update did not answer once the database was back")
			}
			db.breakCommit = nil
			want := "old"
			if tc.applied {
				want = "v"
				if err != nil {
					t.Errorf("Update = %v, want nil", err)
				}
			} else if !errors.Is(err, kv.ErrUnavailable) {
				t.Errorf("Update = %v, want ErrUnavailable", err)
			}
			// Both kinds of transaction read the truth, not what the cache
			// held before the commit.
			if got := get(t, db, "k"); got != want {
				t.Errorf("a View reads k = %q after the commit, want %q", got, want)
			}
			err = db.Update(func(tx kv.Tx) error {
				if got := string(tx.Bucket(items).Get([]byte("k"))); got != want {
					t.Errorf("an Update reads k = %q after the commit, want %q", got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := put(db, "k", "next"); err != nil {
				t.Errorf("the next update: %v", err)
			}
		})
	}
}

// committed says whether the test's key holds its new value in the
// database.
func committed(t *testing.T, url string) bool {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Errorf("connect: %v", err)
		return false
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM items WHERE k = 'k' AND v = 'v'").Scan(&n); err != nil {
		t.Errorf("count: %v", err)
	}
	return n == 1
}

func TestAnSQLErrorIsNotErrUnavailableAndNamesItsTable(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	// Both tables are known to the DB before they go.
	err := db.Update(func(tx kv.Tx) error {
		if err := tx.Bucket([]byte("nest")).Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		return tx.Bucket(items).Put([]byte("a"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, url, "DROP TABLE items")
	// A key the DB has not met: the cache cannot answer for it.
	err = db.View(func(tx kv.Tx) error {
		if got := tx.Bucket(items).Get([]byte("b")); got != nil {
			t.Errorf("Get from a dropped table = %q", got)
		}
		return nil
	})
	if err == nil || errors.Is(err, kv.ErrUnavailable) || !strings.Contains(err.Error(), "items") || !strings.Contains(err.Error(), "schema not migrated") {
		t.Errorf("View reading a dropped table = %v, want an error naming items, not ErrUnavailable", err)
	}
	exec(t, url, "DROP TABLE nest")
	err = db.Update(func(tx kv.Tx) error { return tx.Bucket([]byte("nest")).Put([]byte("a"), []byte("1")) })
	if err == nil || errors.Is(err, kv.ErrUnavailable) || !strings.Contains(err.Error(), `"nest"`) {
		t.Errorf("Update writing a dropped table = %v, want an error naming nest, not ErrUnavailable", err)
	}
}

func TestErrorsCarryNoValues(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	// A constraint the value breaks: PostgreSQL's detail shows the row.
	exec(t, url, "ALTER TABLE items ADD CONSTRAINT short CHECK (length(v) < 16)")
	secret := "SECRET-CARD-KEY-0123456789"
	err := put(db, "k", secret)
	if err == nil {
		t.Fatal("a value the table refuses was stored")
	}
	if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, hex.EncodeToString([]byte(secret))) {
		t.Errorf("the error shows the value: %s", msg)
	}
}

func TestAClosedDBRefuses(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	db.Close()
	if err := put(db, "a", "1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if err := db.View(func(kv.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
}

func TestAnUpdateWaitsForTheWriterLockUpToItsTimeout(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{QueryTimeout: 300 * time.Millisecond})
	// Another process holds the writer lock.
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, "SELECT pg_advisory_lock($1)", WriterLock); err != nil {
		t.Fatal(err)
	}
	if err := put(db, "a", "1"); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Update while another holds the lock past the timeout = %v, want ErrUnavailable", err)
	}
	// Reads do not wait for it.
	if got := get(t, db, "a"); got != "" {
		t.Errorf("a = %q after the update that timed out", got)
	}
	done := make(chan error, 1)
	go func() { done <- put(db, "a", "2") }()
	if _, err := other.Exec(ctx, "SELECT pg_advisory_unlock($1)", WriterLock); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Update once the lock is free: %v", err)
	}
}

func TestOldCommitMarkersArePruned(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{})
	old := markerTime(time.Now().Add(-markerKeep - time.Minute))
	recent := markerTime(time.Now().Add(-markerKeep + time.Minute))
	exec(t, url, "INSERT INTO kv_commits (id) VALUES ('\\x"+hex.EncodeToString(old)+"01'), ('\\x"+hex.EncodeToString(recent)+"01')")
	for i := range pruneEvery {
		if err := put(db, "a", strings.Repeat("x", i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if n := scalar(t, url, "SELECT count(*) FROM kv_commits WHERE id < '\\x"+hex.EncodeToString(old)+"ff'"); n != 0 {
		t.Errorf("%d markers older than %v are left after %d commits", n, markerKeep, pruneEvery)
	}
	if n := scalar(t, url, "SELECT count(*) FROM kv_commits"); n != pruneEvery+1 {
		t.Errorf("%d markers are kept, want the recent one and the %d new", n, pruneEvery)
	}
}
