package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Exec runs one statement on the database url points at, on a connection
// of its own (not a store's: what it writes bypasses every cache).
func Exec(t testing.TB, url, stmt string, args ...any) {
	t.Helper()
	query(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, stmt, args...)
		return err
	}, stmt)
}

// Int runs a query of one integer on the database url points at.
func Int(t testing.TB, url, sql string, args ...any) int {
	t.Helper()
	var n int
	query(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, sql, args...).Scan(&n)
	}, sql)
	return n
}

func query(t testing.TB, url string, fn func(context.Context, *pgx.Conn) error, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if err := fn(ctx, conn); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
