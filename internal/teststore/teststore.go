// Package teststore opens the store of a test on the engine the test run
// chooses: the bbolt file in the test's data directory, or, with
// CARDFLOW_TEST_BACKEND=postgres (scripts/test runs the suite both ways), a
// PostgreSQL database that stands for that directory. Pass Open where a
// test passed storage.Open to testkit.NewStore or testkit.OpenStore.
package teststore

import (
	"context"

	"cardflow/internal/pgtest"
	"cardflow/storage"
)

// Open opens the store of the data directory dir with master key key.
func Open(dir string, key []byte, opts storage.Options) (*storage.Store, error) {
	if !pgtest.Postgres() {
		return storage.Open(dir, key, opts)
	}
	url, err := pgtest.DatabaseFor(dir)
	if err != nil {
		return nil, err
	}
	return storage.OpenPostgres(context.Background(), url, key, storage.PostgresOptions{Options: opts})
}
