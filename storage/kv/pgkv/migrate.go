package pgkv

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNewerSchema is returned by Migrate and Open for a database that a
// newer build has migrated past the newest migration this build knows.
var ErrNewerSchema = errors.New("database schema is newer than this build")

//go:embed migrations/*.sql
var engineFiles embed.FS

// migrationName is how a migration file is named: its version (four or more
// digits), an underscore, a lower-case name.
var migrationName = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9_]+)\.sql$`)

// Where the two sets of migrations are recorded: the engine's own and the
// caller's count their versions apart.
const (
	engineRecord = "kv_migrations"
	callerRecord = "schema_migrations"
)

// migration is one SQL file.
type migration struct {
	version int64
	file    string
	sql     string
}

// Migrate applies the engine's own migrations, then the caller's files in
// fsys (nil for none): every NNNN_name.sql file at fsys's top, in version
// order, each once, recorded in schema_migrations(version, name,
// applied_at). All pending files of a set run in one transaction, under an
// advisory lock, so processes starting together apply them once and an
// upgrade applies all its files or none; they hold the writer lock too, and
// advance the write clock, because they may change the bucket tables. A
// file must not hold transaction control (BEGIN, COMMIT). A database whose recorded version is newer than
// the newest file is refused with ErrNewerSchema. Migrate returns the files
// it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) ([]string, error) {
	own, err := fs.Sub(engineFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("pgkv: engine migrations: %w", err)
	}
	applied, err := migrate(ctx, pool, own, engineRecord)
	if err != nil || fsys == nil {
		return applied, err
	}
	more, err := migrate(ctx, pool, fsys, callerRecord)
	return append(applied, more...), err
}

// migrate applies one set of migrations, recorded in the table record.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, record string) ([]string, error) {
	files, err := readMigrations(fsys)
	if err != nil {
		return nil, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, wrap("migrate: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing; before, the error is the one returned
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", MigrationLock); err != nil {
		return nil, wrap("migrate: lock", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+record+` (
		version bigint PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, wrap("migrate: create "+record, err)
	}
	done, err := recorded(ctx, tx, record)
	if err != nil {
		return nil, err
	}
	var newest int64
	if len(files) > 0 {
		newest = files[len(files)-1].version
	}
	for v, name := range done {
		if v > newest {
			return nil, fmt.Errorf("pgkv: %s records version %d (%s), newer than this build's newest migration (%04d): upgrade cardflow: %w",
				record, v, name, newest, ErrNewerSchema)
		}
	}
	var applied []string
	for _, m := range files {
		name := strings.TrimSuffix(m.file, ".sql")
		if was, ok := done[m.version]; ok {
			if was != name {
				return nil, fmt.Errorf("pgkv: %s records version %d as %s, but the file of that version is %s", record, m.version, was, m.file)
			}
			continue
		}
		if applied == nil {
			// A file may change the bucket tables: no Update may run
			// beside it.
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", WriterLock); err != nil {
				return nil, wrap("migrate: lock the writers out", err)
			}
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return nil, wrap("migrate: apply "+m.file, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+record+" (version, name) VALUES ($1, $2)", m.version, name); err != nil {
			return nil, wrap("migrate: record "+m.file, err)
		}
		applied = append(applied, m.file)
	}
	if applied != nil {
		// What a process cached is no longer known to be true.
		if _, err := tx.Exec(ctx, "UPDATE kv_clock SET n = n + 1, writer = 0"); err != nil {
			return nil, wrap("migrate: advance the write clock", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, wrap("migrate: commit", err)
	}
	return applied, nil
}

// recorded reads the versions a set's table records.
func recorded(ctx context.Context, tx pgx.Tx, record string) (map[int64]string, error) {
	rows, err := tx.Query(ctx, "SELECT version, name FROM "+record)
	if err != nil {
		return nil, wrap("migrate: read "+record, err)
	}
	done := map[int64]string{}
	var v int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&v, &name}, func() error {
		done[v] = name
		return nil
	})
	if err != nil {
		return nil, wrap("migrate: read "+record, err)
	}
	return done, nil
}

// readMigrations reads the .sql files at fsys's top, in version order.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("pgkv: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("pgkv: migration %s: name it NNNN_name.sql (a version of four or more digits, a lower-case name)", e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("pgkv: migration %s: the version must be a number from 1", e.Name())
		}
		sql, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("pgkv: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, file: e.Name(), sql: string(sql)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("pgkv: migrations %s and %s share version %d", out[i-1].file, out[i].file, out[i].version)
		}
	}
	return out, nil
}
