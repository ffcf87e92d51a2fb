package storage

import (
	"cardflow/storage/kv"
)

// Tx is a read or write transaction with cardflow's typed operations. Write
// methods keep the indexes in step with the records they change.
type Tx struct {
	tx    kv.Tx
	store *Store
	// buyerLog holds the buyer-history records written in this transaction;
	// they reach the in-memory index only once it commits.
	buyerLog   []logRecord
	buyerSeqs  []uint64            // their sequence numbers (buyersync.go)
	buyerByID  map[identity][]int  // identity → indexes into buyerLog
	identities map[string]identity // hashed identities, computed once per transaction
	// stats and statSets are counter changes, folded into the stats bucket
	// once per commit (see stats.go).
	stats    map[StatKey]int64
	statSets map[StatKey]int64
	// written holds the records of the orders this transaction wrote, the
	// last of each (Written).
	written map[uint64]OrderRecord
}

// Vault returns the store's vault.
func (t *Tx) Vault() *Vault { return t.store.vault }

// appending returns a bucket whose keys only grow (sequence numbers), which
// the engine may pack tighter (bbolt fills its pages: docs/storage.md).
func (t *Tx) appending(name []byte) kv.Bucket {
	b := t.tx.Bucket(name)
	b.Appending()
	return b
}
