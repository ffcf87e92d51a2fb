package pgkv

import (
	"context"
	"embed"
	"io/fs"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/storage/kv"
	"cardflow/storage/kv/kvtest"
)

//go:embed testdata/migrations/*.sql
var testFiles embed.FS

// testMigrations create the buckets of the contract's tests.
func testMigrations(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(testFiles, "testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// openTimeout bounds Open in tests.
const openTimeout = 30 * time.Second

// openDB opens the database url points at with the test migrations, unless
// opts names others, and closes it when the test ends.
func openDB(t testing.TB, url string, opts Options) *DB {
	t.Helper()
	if opts.Migrations == nil {
		opts.Migrations = testMigrations(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	db, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresKeepsTheKVContract(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return openDB(t, pgtest.URL(t), Options{}) })
}

// BenchmarkUpdate is as durable as the server it runs on: scripts/pg start
// without PG_FAST for figures worth quoting.
func BenchmarkUpdate(b *testing.B) {
	kvtest.BenchUpdate(b, openDB(b, pgtest.URL(b), Options{}))
}
