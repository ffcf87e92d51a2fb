package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"cardflow/storage/kv/pgkv"
)

// migrations are the bucket tables, one SQL file per schema change, applied
// in order at every start (and by `cardflow migrate`).
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the SQL files that create and upgrade the bucket
// tables on PostgreSQL.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	return sub
}

// PostgresOptions tune OpenPostgres.
type PostgresOptions struct {
	Options
	// MaxConns caps the connection pool; 0: pgkv's default.
	MaxConns int32
}

// OpenPostgres opens the store in the PostgreSQL database url names,
// creating or upgrading its tables first, checks that master is the key
// it was created with, and starts the writer. Several processes may open
// one database: their writes are serial (see storage/kv/pgkv).
func OpenPostgres(ctx context.Context, url string, master []byte, opts PostgresOptions) (*Store, error) {
	vault, err := NewVault(master)
	if err != nil {
		return nil, err
	}
	db, err := pgkv.Open(ctx, url, pgkv.Options{Migrations: Migrations(), MaxConns: opts.MaxConns})
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL store: %w", err)
	}
	s, err := start(&Store{db: db, pg: db, vault: vault}, opts.Options)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.watch(db.Ping)
	return s, nil
}

// MigratePostgres applies the pending migrations (pgkv's own, then the
// bucket tables') to the database url names, and returns the files it
// applied: none when the schema is current. A database a newer cardflow has
// migrated is refused with pgkv.ErrNewerSchema. It needs no master key and
// writes no store data: `cardflow migrate` runs it ahead of an upgrade.
func MigratePostgres(ctx context.Context, url string) ([]string, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("migrate PostgreSQL: %w", err)
	}
	cfg.MaxConns = 1
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "cardflow migrate"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrate PostgreSQL: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pgkv.Migrate(ctx, pool, Migrations())
}
