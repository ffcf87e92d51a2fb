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
	if err := run(url, fn, what); err != nil {
		t.Fatal(err)
	}
}
