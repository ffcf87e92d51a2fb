package storage

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"

	"cardflow/internal/testkit"
	"cardflow/storage/kv/pgkv"
)

// TestMigratePostgresAppliesPendingFilesOnceAndRefusesANewerSchema: an
// empty database gets the engine's tables and the bucket tables, a second
// run applies nothing, a store opens on the result, and a database whose
// record names a version past this build's files is refused.
func TestMigratePostgresAppliesPendingFilesOnceAndRefusesANewerSchema(t *testing.T) {
	url := pgURL(t)
	var want []string
	entries, err := fs.ReadDir(Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want = append(want, e.Name())
	}
	applied, err := MigratePostgres(context.Background(), url)
	// pgkv's own files first, then the store's, in order.
	if err != nil || len(applied) <= len(want) || applied[0] != "0001_engine.sql" || !slices.Equal(applied[len(applied)-len(want):], want) {
		t.Fatalf("first run applied %v (%v), want pgkv's files, then %v", applied, err, want)
	}
	if again, err := MigratePostgres(context.Background(), url); err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v (%v), want nothing", again, err)
	}
	if n := count(t, url, "meta"); n != 0 {
		t.Fatalf("migrating wrote %d rows of store data", n)
	}
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	sql(t, url, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_the_future')")
	if _, err := MigratePostgres(context.Background(), url); !errors.Is(err, pgkv.ErrNewerSchema) {
		t.Fatalf("a newer schema: %v, want pgkv.ErrNewerSchema", err)
	}
	if _, err := MigratePostgres(context.Background(), "postgres://cardflow@/nodb?host=/nonexistent-dir&connect_timeout=2"); err == nil {
		t.Fatal("a server that is not there: no error")
	}
}
