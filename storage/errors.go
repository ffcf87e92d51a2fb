package storage

import (
	"errors"
	"fmt"

	"cardflow/storage/kv"
)

// Sentinel errors of the storage layer. The API and the operator layer map them
// to their own codes and replies, once, at the edge.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrMasterKey  = errors.New("wrong master key")
	ErrDecrypt    = errors.New("cannot decrypt card: wrong master key or damaged data")
	ErrLocked     = errors.New("database is locked by another cardflow process")
	ErrSchema     = errors.New("unsupported database schema")
	ErrClosed     = errors.New("store is closed")
	ErrStockEmpty = errors.New("not enough stock")
	// ErrStoreFailed: a commit failed for the storage's sake (I/O, fsync,
	// file growth); the store takes no more writes until a restart. It is
	// an ErrClosed, so callers that stop on a closed store stop on it.
	ErrStoreFailed = fmt.Errorf("%w: a storage error stopped all writes; restart cardflow", ErrClosed)
	// ErrUnavailable: the database server could not be reached (PostgreSQL
	// only); nothing of the refused write applied and the store keeps
	// trying with the next one.
	ErrUnavailable = kv.ErrUnavailable
	// ErrBackupElsewhere: a store in PostgreSQL is backed up by the
	// database's own tools (pg_dump, base backups), not by cardflow.
	ErrBackupElsewhere = errors.New("the store is in PostgreSQL: back it up with pg_dump or the database's own backups")
	// ErrNotAStore: a file to copy from is not a cardflow bbolt store.
	ErrNotAStore = errors.New("not a cardflow store")
	// ErrTargetNotEmpty: CopyFromBolt copies only into a store that holds
	// nothing, so that nothing is mixed or overwritten.
	ErrTargetNotEmpty = errors.New("the target database is not empty")
	// ErrCopyMismatch: after a copy, the target does not hold what the
	// file does.
	ErrCopyMismatch = errors.New("the copy does not match the file")
	// ErrUnfinishedCopy: the store holds a copy from a bbolt file that
	// broke off or was not verified; it is not served.
	ErrUnfinishedCopy = errors.New("the database holds an unfinished copy of a bbolt store (cardflow migrate -from-bbolt): drop it, create it empty and copy again")
)
