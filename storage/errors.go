package storage

import "errors"

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
)
