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

// macState is a keyed HMAC and a buffer to hand it a string in: converting
// the string to []byte for the hash.Hash interface would allocate a copy
// on every call.
type macState struct {
	h   hash.Hash
	buf []byte
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := &keyedMAC{}
	k.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }
	return k
}

// sum returns the MAC of s.
func (k *keyedMAC) sum(s string) [sha256.Size]byte {
	m := k.pool.Get().(*macState)
	m.h.Reset()
	m.buf = append(m.buf[:0], s...)
	m.h.Write(m.buf)
	var out [sha256.Size]byte
	m.h.Sum(out[:0])
	if cap(m.buf) > 4096 { // don't keep a huge buffer for one long input
		m.buf = make([]byte, 0, 128)
	}
	k.pool.Put(m)
	return out
}
