package storage

import (
	"context"

	"cardflow/internal/pgtest"
)

// openTest opens the store of a test's data directory on the engine the
// run tests (pgtest.Postgres): the bbolt file in dir, or the PostgreSQL
// database that stands for dir. Tests of what only the bbolt file does
// (backup, trimming, the file lock, disk faults) call Open.
func openTest(dir string, key []byte, opts Options) (*Store, error) {
	if !pgtest.Postgres() {
		return Open(dir, key, opts)
	}
	url, err := pgtest.DatabaseFor(dir)
	if err != nil {
		return nil, err
	}
	return OpenPostgres(context.Background(), url, key, PostgresOptions{Options: opts})
}
