package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestURLGivesAnEmptyDatabaseOfItsOwnAndDropsItAfterTheTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		u := URL(t)
		conn := connect(t, u)
		if err := conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if parsed, _ := url.Parse(u); parsed.Path != "/"+name || !strings.HasPrefix(name, "t_") {
			t.Errorf("URL %s connects to database %s", u, name)
		}
		if n := count(t, conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); n != 0 {
			t.Errorf("the new database has %d tables", n)
		}
		if other := URL(t); other == u {
			t.Error("a second URL in one test names the same database")
		}
	})
	if name == "" {
		t.Skip("the subtest had no database")
	}
	server := connect(t, os.Getenv(EnvURL))
	if n := count(t, server, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Errorf("database %s is still there after its test", name)
	}
}

func TestURLSkipsWithoutAServerUnlessPostgresIsRequired(t *testing.T) {
	skipped := false
	t.Run("no server", func(t *testing.T) {
		t.Setenv(EnvURL, "")
		t.Setenv(EnvPostgres, "")
		defer func() { skipped = t.Skipped() }()
		URL(t)
	})
	if !skipped {
		t.Error("URL without a server did not skip the test")
	}
}

func TestTerminateEndsTheSessionsOfOneApplication(t *testing.T) {
	u := URL(t)
	with := func(app string) string {
		parsed, _ := url.Parse(u)
		q := parsed.Query()
		q.Set("application_name", app)
		parsed.RawQuery = q.Encode()
		return parsed.String()
	}
	victim, bystander := connect(t, with("victim")), connect(t, with("bystander"))
	if n := Terminate(t, u, "victim"); n != 1 {
		t.Errorf("Terminate ended %d sessions, want 1", n)
	}
	if _, err := victim.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Error("the terminated session still answers")
	}
	if _, err := bystander.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Errorf("the other application's session: %v", err)
	}
}

func TestAProxyCutsConnectionsUntilRestored(t *testing.T) {
	p := NewProxy(t, URL(t))
	conn := connect(t, p.URL())
	if _, err := conn.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Cut()
	if _, err := conn.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Error("a connection through the cut proxy still answers")
	}
	if c, err := pgx.Connect(context.Background(), p.URL()); err == nil {
		c.Close(context.Background())
		t.Error("a new connection through the cut proxy was let through")
	}
	if n := p.Refused(); n < 1 {
		t.Errorf("Refused = %d, want the refused connection counted", n)
	}
	p.Restore()
	if _, err := connect(t, p.URL()).Exec(context.Background(), "SELECT 1"); err != nil {
		t.Errorf("a new connection once restored: %v", err)
	}
}
