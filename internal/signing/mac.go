package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// MAC computes HMAC-SHA256 under one key. hmac.New hashes the key and
// allocates two SHA-256 states every time, and every order computes several
// MACs (its signature check, its callback's signature, card fingerprints,
// buyer identities), so keyed states are kept in a pool, Reset and reused.
// Strings go through a kept buffer: converting them to []byte for the
// hash.Hash interface would allocate a copy on every call.
type MAC struct{ pool sync.Pool }

type macState struct {
	h   hash.Hash
	buf []byte
}

// NewMAC keys a MAC with a copy of key.
func NewMAC(key []byte) *MAC {
	key = append([]byte(nil), key...) // the caller may reuse its slice
	m := &MAC{}
	m.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }
	return m
}

// Sum returns the MAC of head's strings followed by tail.
func (m *MAC) Sum(tail []byte, head ...string) [sha256.Size]byte {
	st := m.pool.Get().(*macState)
	st.h.Reset()
	b := st.buf[:0]
	for _, s := range head {
		b = append(b, s...)
	}
	st.h.Write(b)
	st.h.Write(tail)
	var out [sha256.Size]byte
	st.h.Sum(out[:0])
	if cap(b) > 4096 { // don't keep a huge buffer for one long input
		b = make([]byte, 0, 128)
	}
	st.buf = b
	m.pool.Put(st)
	return out
}
