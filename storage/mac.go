package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// keyedMAC computes HMAC-SHA256 under one key. It keeps keyed states in a
// pool: hmac.New hashes the key and allocates two SHA-256 states each time,
// and every order computes several MACs (card fingerprints, buyer ids).
type keyedMAC struct{ pool sync.Pool }

func newKeyedMAC(key []byte) *keyedMAC {
	k := &keyedMAC{}
	k.pool.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

// sum returns the MAC of s.
func (k *keyedMAC) sum(s string) [sha256.Size]byte {
	m := k.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(s))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	k.pool.Put(m)
	return out
}
