package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// envDatabaseURL names the server -storage postgres runs on when
// -database-url is not given.
const envDatabaseURL = "CARDFLOW_BENCH_DATABASE_URL"

// pgTimeout bounds one administrative statement (CREATE or DROP DATABASE,
// SHOW, a snapshot of the figures).
const pgTimeout = 30 * time.Second

// usageError is a mistake in how the bench was called: exit status 2.
type usageError struct{ error }

// pgServer is the PostgreSQL server the runs of -storage postgres create
// their databases on.
type pgServer struct {
	admin    string // libpq URL or key=value string of a database to connect to
	named    string // where the URL came from: -database-url, the variable, or the cluster's directory
	settings pgSettings
	// postmaster is the server's process id when it runs on this machine
	// and its data directory can be read, so that its CPU can be counted;
	// 0 otherwise.
	postmaster int
}

// pgSettings are the server settings a reader needs to judge the figures.
type pgSettings struct {
	version, fsync, synchronousCommit string
}

// durable says whether a commit waits for its WAL to reach the disk.
func (s pgSettings) durable() bool { return s.fsync == "on" && s.synchronousCommit == "on" }

func (s pgSettings) String() string {
	d := "durable writes"
	if !s.durable() {
		d = "NOT durable: not comparable with bbolt's durable writes"
	}
	return fmt.Sprintf("PostgreSQL %s, fsync %s, synchronous_commit %s: %s", s.version, s.fsync, s.synchronousCommit, d)
}

// checkDatabaseURL refuses a string that is no PostgreSQL connection string.
// pgconn's message may quote the string, password and all: it is not shown.
func checkDatabaseURL(from, s string) error {
	if _, err := pgconn.ParseConfig(s); err != nil {
		return fmt.Errorf("%s is not a PostgreSQL URL (postgres://user:password@host:5432/dbname) or key=value connection string (host=... dbname=...)", from)
	}
	return nil
}

// databaseServer returns the server -storage postgres runs on: the one
// -database-url or CARDFLOW_BENCH_DATABASE_URL names, else a throwaway
// durable cluster started with the project's scripts/pg. stop stops and
// removes that cluster; it does nothing for a named server.
func databaseServer(ctx context.Context, o benchOptions) (s *pgServer, stop func(), err error) {
	stop = func() {}
	s = &pgServer{admin: o.databaseURL, named: "-database-url"}
	if s.admin == "" {
		s.admin, s.named = os.Getenv(envDatabaseURL), envDatabaseURL
	}
	if s.admin == "" {
		if s.admin, s.named, stop, err = startCluster(ctx); err != nil {
			return nil, stop, err
		}
	}
	if err := checkDatabaseURL(s.named, s.admin); err != nil {
		stop()
		return nil, func() {}, usageError{err}
	}
	if err := s.inspect(ctx); err != nil {
		stop()
		if s.named == "-database-url" || s.named == envDatabaseURL {
			return nil, func() {}, usageError{fmt.Errorf("%s: %w", s.named, err)}
		}
		return nil, func() {}, err
	}
	return s, stop, nil
}

// startCluster starts a durable cluster with scripts/pg of the cardflow
// module in the working directory, in a directory of its own under TMPDIR
// (world-traversable, as the server's own user needs).
func startCluster(ctx context.Context) (dsn, dir string, stop func(), err error) {
	stop = func() {}
	root, err := moduleRoot(ctx)
	script := filepath.Join(root, "scripts", "pg")
	if err == nil {
		_, err = os.Stat(script)
	}
	if err != nil {
		return "", "", stop, usageError{fmt.Errorf("-storage postgres needs a server: give -database-url (or %s), "+
			"or run from a cardflow checkout, whose scripts/pg starts a throwaway one (%v)", envDatabaseURL, err)}
	}
	if dir, err = os.MkdirTemp("", "cardflow-bench-pg-"); err != nil {
		return "", "", stop, err
	}
	fmt.Fprintf(os.Stderr, "starting a throwaway durable PostgreSQL cluster in %s (scripts/pg)…\n", dir)
	stop = func() {
		// Not bound to ctx: the cluster goes even when the run was interrupted.
		cmd := exec.Command(script, "stop", dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: stopping the cluster in %s: %v\n", dir, err)
		}
		_ = os.Remove(dir) // left empty when start failed before making it a cluster
	}
	cmd := exec.CommandContext(ctx, script, "start", dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		stop()
		return "", "", func() {}, fmt.Errorf("scripts/pg start: %w", err)
	}
	return strings.TrimSpace(string(out)), dir, stop, nil
}

// moduleRoot is the directory of the cardflow module that holds the working
// directory: the one serviceBinary builds cardflow from.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return "", errors.New("the working directory is not in a Go module (go list -m failed)")
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if path != "cardflow" {
		return "", fmt.Errorf("the working directory is in module %s, not cardflow", path)
	}
	return dir, nil
}

// inspect connects, reads the settings, and finds the server's process if
// it runs here.
func (s *pgServer) inspect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer conn.Close(ctx)
	for _, v := range []struct {
		name string
		into *string
	}{{"server_version", &s.settings.version}, {"fsync", &s.settings.fsync}, {"synchronous_commit", &s.settings.synchronousCommit}} {
		if err := conn.QueryRow(ctx, "SHOW "+v.name).Scan(v.into); err != nil {
			return fmt.Errorf("SHOW %s: %w", v.name, err)
		}
	}
	// The data directory is shown to superusers only, and readable only on
	// the server's machine: without it the server's CPU is not counted.
	var data string
	if conn.QueryRow(ctx, "SHOW data_directory").Scan(&data) == nil && local(conn.Config().Host) {
		s.postmaster = postmasterPID(data)
	}
	return nil
}

// cpu is the server's CPU time so far, its processes' included; 0 when it
// is not on this machine.
func (s *pgServer) cpu() time.Duration {
	if s.postmaster == 0 {
		return 0
	}
	return treeCPU(s.postmaster)
}

// local says whether host is this machine: a unix socket or loopback.
func local(host string) bool {
	return strings.HasPrefix(host, "/") || host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// postmasterPID reads the server's process id from its data directory,
// and checks that the process is a running postgres.
func postmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return 0
	}
	return pid
}

// benchDatabase is the fresh database of one run.
type benchDatabase struct {
	server *pgServer
	name   string
	dsn    string // for the services and the bench's own connections
}

// createDatabase creates an empty database for one run.
func (s *pgServer) createDatabase(ctx context.Context) (*benchDatabase, error) {
	db := &benchDatabase{server: s, name: "cardflow_bench_" + randomHex(6)}
	if err := s.exec(ctx, "CREATE DATABASE "+db.name); err != nil {
		return nil, err
	}
	dsn, err := withDatabase(s.admin, db.name)
	if err != nil {
		_ = db.drop()
		return nil, err
	}
	db.dsn = dsn
	return db, nil
}

// drop removes the run's database, sessions left on it or not.
func (db *benchDatabase) drop() error {
	return db.server.exec(context.Background(), "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)")
}

// exec runs one statement on the admin database.
func (s *pgServer) exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.named, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// withDatabase is the connection string dsn with its database replaced by
// name (a plain identifier): in a URL the path, in key=value form a last
// dbname, which wins.
func withDatabase(dsn, name string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + name, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("the database URL does not parse as a URL")
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// connect opens a connection of the bench's own to the run's database.
func (db *benchDatabase) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	return pgx.Connect(ctx, db.dsn)
}

// pgCeiling is how fast the server commits one small write after another
// on one connection: each commit waits for its WAL flush. Every cardflow
// write transaction holds one lock across all processes, so this bounds
// their commits a second (each carries many orders).
type pgCeiling struct {
	commits  int
	duration time.Duration
}

func (c pgCeiling) perSecond() float64 { return perSecond(c.commits, c.duration) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// measureCommits commits 300-byte rows one at a time for d, in a table of
// its own that it drops after.
func (db *benchDatabase) measureCommits(ctx context.Context, d time.Duration) (pgCeiling, error) {
	conn, err := db.connect(ctx)
	if err != nil {
		return pgCeiling{}, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE TABLE bench_ceiling (k bigint PRIMARY KEY, v bytea NOT NULL)"); err != nil {
		return pgCeiling{}, err
	}
	// The run's database goes after the run anyway: a failed drop costs nothing.
	defer func() { _, _ = conn.Exec(context.Background(), "DROP TABLE bench_ceiling") }()
	value := []byte(strings.Repeat("v", 300))
	c := pgCeiling{}
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := conn.Exec(ctx, "INSERT INTO bench_ceiling VALUES ($1, $2)", c.commits, value); err != nil {
			return c, err
		}
		c.commits++
	}
	c.duration = time.Since(start)
	return c, nil
}

// dbFigures are the server's counters at one moment: exact ones (the WAL
// position, the transaction ids handed out) and the WAL flushes (from
// pg_stat_wal, which a session reports when it goes idle or ends). They
// count the whole server's work, not only the run's database.
type dbFigures struct {
	walBytes, xids, walSyncs int64
}

func (db *benchDatabase) figures(ctx context.Context, conn *pgx.Conn) (dbFigures, error) {
	var f dbFigures
	err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
		  pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		  (SELECT wal_sync FROM pg_stat_wal)`).Scan(&f.walBytes, &f.xids, &f.walSyncs)
	return f, err
}

// size is the database's size on disk (its tables and indexes; the WAL is
// the server's).
func (db *benchDatabase) size(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
	return n, err
}
