// Package pgtest gives tests a PostgreSQL database of their own on the
// server scripts/test starts, and ways to break connections to it on
// purpose.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The environment scripts/test sets.
const (
	// EnvURL names the server tests create their databases on: a libpq
	// URL with administrator rights (CREATE DATABASE).
	EnvURL = "CARDFLOW_TEST_DATABASE_URL"
	// EnvPostgres set to "required" makes a missing EnvURL fail the test
	// instead of skipping it, so that CI cannot skip PostgreSQL quietly.
	EnvPostgres = "CARDFLOW_TEST_POSTGRES"
)

// adminTimeout bounds creating and dropping a database.
const adminTimeout = 30 * time.Second

// URL creates an empty database for this test, drops it when the test ends,
// and returns a URL that points at it. Without EnvURL the test is skipped,
// or fails if EnvPostgres is "required".
func URL(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvURL)
	if server == "" {
		if os.Getenv(EnvPostgres) == "required" {
			t.Fatalf("%s is unset but %s=required: run the tests through scripts/test", EnvURL, EnvPostgres)
		}
		t.Skipf("no PostgreSQL server: run the tests through scripts/test (or set %s)", EnvURL)
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL (as scripts/pg prints)", EnvURL)
	}
	name := dbName(t)
	admin(t, server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		admin(t, server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	own := *u
	own.Path = "/" + name
	own.RawPath = ""
	return own.String()
}

// admin runs one statement on the server's own database.
func admin(t testing.TB, server, sql string) {
	t.Helper()
	if err := exec(server, sql); err != nil {
		t.Fatal(err)
	}
}

// dbName is the test's name made an identifier, and a random suffix so that
// reruns and parallel packages never meet.
func dbName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatal(err)
	}
	return b.String() + "_" + hex.EncodeToString(suffix[:])
}

// Terminate ends every other session on the database url points at whose
// application_name is appName (every other session if appName is empty),
// waits until they are gone, and returns how many there were.
func Terminate(t testing.TB, url, appName string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to terminate sessions: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	// The sessions are chosen first (MATERIALIZED), so that the planner
	// cannot call pg_terminate_backend on a row before filtering it out.
	err = conn.QueryRow(ctx, `WITH victims AS MATERIALIZED (
		  SELECT pid FROM pg_stat_activity
		  WHERE datname = current_database() AND pid <> pg_backend_pid()
		    AND ($1 = '' OR application_name = $1))
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM victims`, appName).Scan(&n)
	if err != nil {
		t.Fatalf("terminate sessions of %q: %v", appName, err)
	}
	return n
}
