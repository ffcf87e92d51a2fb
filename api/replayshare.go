package api

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"cardflow/internal/signing"
)

// Peers are the other processes serving the same storefronts on one
// database (cluster.Member): a signature seen by one is refused as a
// replay by the others too. Without them, a request captured on its way to
// one process could be replayed to another inside the window and be
// answered again, the order's card keys included.
type Peers interface {
	Publish(topic, payload string)
	Subscribe(topic string, fn func(payload string))
}

// topicSigned carries the keys of verified signatures between processes.
const topicSigned = "api.signed"

// A process gathers its signatures for shareDelay and sends them in one
// nudge, at most shareMax to a nudge: an entry is "unixseconds:16 hex
// digits " (28 bytes), within the 7,000 bytes a nudge carries. A replay
// that reaches another process before its nudge does (about shareDelay
// and one notification later) is not refused there.
const (
	shareDelay = 50 * time.Millisecond
	shareMax   = 240
)

// replayShare sends this process's signature keys to its peers and notes
// theirs in its guard.
type replayShare struct {
	peers Peers
	guard *signing.Guard
	now   func() time.Time
	log   zerolog.Logger
	self  string // marks this process's nudges, which come back to it

	mu      sync.Mutex
	pending []sharedKey
}

type sharedKey struct {
	ts  int64
	key uint64
}

func newReplayShare(peers Peers, guard *signing.Guard, now func() time.Time, log zerolog.Logger) *replayShare {
	var mark [4]byte
	_, _ = rand.Read(mark[:])
	r := &replayShare{peers: peers, guard: guard, now: now, log: log, self: hex.EncodeToString(mark[:])}
	peers.Subscribe(topicSigned, r.heard)
	return r
}

// seen queues a signature this process has just let in.
func (r *replayShare) seen(ts int64, key uint64) {
	r.mu.Lock()
	r.pending = append(r.pending, sharedKey{ts, key})
	n := len(r.pending)
	r.mu.Unlock()
	switch {
	case n >= shareMax:
		r.flush()
	case n == 1:
		time.AfterFunc(shareDelay, r.flush)
	}
}

// flush sends what is queued, in nudges of at most shareMax keys.
func (r *replayShare) flush() {
	r.mu.Lock()
	keys := r.pending
	r.pending = nil
	r.mu.Unlock()
	for len(keys) > 0 {
		n := min(len(keys), shareMax)
		b := make([]byte, 0, len(r.self)+28*n)
		b = append(b, r.self...)
		for _, k := range keys[:n] {
			b = strconv.AppendInt(append(b, ' '), k.ts, 10)
			b = hex.AppendEncode(append(b, ':'), binary.BigEndian.AppendUint64(nil, k.key))
		}
		r.peers.Publish(topicSigned, string(b))
		keys = keys[n:]
	}
}

// heard notes a peer's signature keys in the guard.
func (r *replayShare) heard(payload string) {
	fields := strings.Fields(payload)
	if len(fields) == 0 || fields[0] == r.self {
		return
	}
	now := r.now()
	bad := 0
	for _, f := range fields[1:] {
		ts, key, ok := strings.Cut(f, ":")
		t, err1 := strconv.ParseInt(ts, 10, 64)
		k, err2 := strconv.ParseUint(key, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			bad++
			continue
		}
		r.guard.Note(now, t, k)
	}
	if bad > 0 {
		r.log.Warn().Int("entries", bad).Msg("malformed signature keys from a peer ignored")
	}
}
