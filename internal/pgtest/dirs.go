package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// EnvBackend set to "postgres" runs the tests that open stores through
// their data directory (DatabaseFor) on PostgreSQL instead of bbolt; the
// test command runs them once each way.
const EnvBackend = "CARDFLOW_TEST_BACKEND"

// Postgres reports whether this test run keeps its stores in PostgreSQL.
func Postgres() bool { return os.Getenv(EnvBackend) == "postgres" }

// dirFile, inside a test's data directory, holds the URL of the database
// that stands for it.
const dirFile = "postgres-test.url"

var (
	dirsMu sync.Mutex
	dirs   = map[string]string{} // database → the directory it stands for
)

// DatabaseFor returns the URL of the database that stands for the data
// directory dir when stores live in PostgreSQL: created empty at the first
// call for dir and remembered in dir, so that a test that opens dir again
// (a restart) finds its data. A database whose directory is gone (its test
// ended and removed its TempDir) is dropped at a later call; the rest go
// with the test cluster.
func DatabaseFor(dir string) (string, error) {
	if b, err := os.ReadFile(filepath.Join(dir, dirFile)); err == nil {
		return string(b), nil
	}
	server := os.Getenv(EnvURL)
	if server == "" {
		return "", fmt.Errorf("%s=postgres needs %s: run the tests through scripts/test", EnvBackend, EnvURL)
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL (as scripts/pg prints)", EnvURL)
	}
	sweep(server)
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", err
	}
	name := "d_" + strings.ToLower(sanitize(filepath.Base(filepath.Dir(dir)))) + "_" + hex.EncodeToString(suffix[:])
	if err := exec(server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	own := *u
	own.Path, own.RawPath = "/"+name, ""
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, dirFile), []byte(own.String()), 0o600); err != nil {
		return "", err
	}
	dirsMu.Lock()
	dirs[name] = dir
	dirsMu.Unlock()
	return own.String(), nil
}

// sweep drops the databases whose directories are gone.
func sweep(server string) {
	dirsMu.Lock()
	var gone []string
	for name, dir := range dirs {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			gone = append(gone, name)
			delete(dirs, name)
		}
	}
	dirsMu.Unlock()
	for _, name := range gone {
		_ = exec(server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// sanitize keeps the letters and digits of a test's directory name (the
// test's name, as TempDir makes it), at most 24.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 24 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// exec runs one statement on the server's own database.
func exec(server, sql string) error {
	return run(server, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql)
		return err
	}, sql)
}

// run calls fn on a connection of its own to the database url points at.
func run(url string, fn func(context.Context, *pgx.Conn) error, what string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to the test server (%s): %w", EnvURL, err)
	}
	defer conn.Close(ctx)
	if err := fn(ctx, conn); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
