package pgkv

import (
	"context"
	"testing"
	"time"

	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
)

// Size asks the server once per sizeEvery: a database grown by 2,000 rows
// of a kilobyte reads at its old size until the clock has moved on by
// sizeEvery, then at its new one.
func TestSizeIsAskedOncePerInterval(t *testing.T) {
	db := openDB(t, pgtest.URL(t), Options{})
	clock := testkit.NewClock(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	db.now = clock.Now

	before := db.Size()
	if before <= 0 {
		t.Fatalf("Size = %d, want the database's size", before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.Pool().Exec(ctx, "CREATE TABLE grown AS SELECT repeat('x', 1000) AS v FROM generate_series(1, 2000)"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(sizeEvery - time.Millisecond)
	if got := db.Size(); got != before {
		t.Errorf("Size within %v = %d, want the %d it learned before", sizeEvery, got, before)
	}
	clock.Advance(time.Millisecond)
	if got := db.Size(); got < before+1<<20 {
		t.Errorf("Size after %v = %d, want at least a MiB more than %d", sizeEvery, got, before)
	}
}
