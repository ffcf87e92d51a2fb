// Package signing implements the storefront request and callback signature
// (docs/api.md): HMAC-SHA256 over timestamp, method, path and query, and body.
// The API verifies with it, the outbox signs callbacks with it, and the demo
// storefront and load tools use both directions.
package signing

import (
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Header names carried by every signed request and callback.
const (
	HeaderStorefront = "X-Cardflow-Storefront"
	HeaderTimestamp  = "X-Cardflow-Timestamp"
	HeaderSignature  = "X-Cardflow-Signature"
)

// Window is how far a signed timestamp may be from the receiver's clock.
const Window = 300 * time.Second

// Errors returned by Check. They all mean 401 to the caller.
var (
	ErrMissing   = errors.New("missing signature headers")
	ErrBadTime   = errors.New("timestamp is not unix seconds")
	ErrTimestamp = errors.New("timestamp outside the allowed window")
	ErrSignature = errors.New("signature mismatch")
	ErrReplay    = errors.New("signature already used")
	// ErrBeforeStart is a timestamp older than the receiver's start, whose
	// replay guard cannot have seen it.
	ErrBeforeStart = errors.New("timestamp before the receiver started")
)

// Sum returns the lowercase hex signature of one request.
func Sum(secret []byte, timestamp int64, method, pathAndQuery string, body []byte) string {
	sum := keyed(secret).Sum(body, strconv.FormatInt(timestamp, 10), "\n", method, "\n", pathAndQuery, "\n")
	return hex.EncodeToString(sum[:])
}

// macs keeps a MAC per secret in use: every order costs a signature check
// on the way in and a signature on its callback. Storefront secrets are few
// and fixed by the config; past maxKeyed secrets (a fuzzer's random keys)
// MACs are made afresh and not kept.
const maxKeyed = 64

var macs struct {
	sync.RWMutex
	m map[string]*MAC
}

func keyed(secret []byte) *MAC {
	macs.RLock()
	m := macs.m[string(secret)]
	macs.RUnlock()
	if m != nil {
		return m
	}
	macs.Lock()
	defer macs.Unlock()
	if m = macs.m[string(secret)]; m != nil {
		return m
	}
	m = NewMAC(secret)
	if len(macs.m) < maxKeyed {
		if macs.m == nil {
			macs.m = map[string]*MAC{}
		}
		macs.m[string(secret)] = m
	}
	return m
}

// Apply sets the three signature headers on req for the given body.
func Apply(req *http.Request, storefront string, secret []byte, now time.Time, body []byte) {
	ts := now.Unix()
	req.Header.Set(HeaderStorefront, storefront)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sum(secret, ts, req.Method, req.URL.RequestURI(), body))
}

// Check verifies a signature made with secret. It does not look at replays;
// Guard does.
func Check(secret []byte, now time.Time, timestamp, signature, method, pathAndQuery string, body []byte) (int64, error) {
	if timestamp == "" || signature == "" {
		return 0, ErrMissing
	}
	ts, err := CheckTime(now, timestamp)
	if err != nil {
		return 0, err
	}
	want := Sum(secret, ts, method, pathAndQuery, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return 0, ErrSignature
	}
	return ts, nil
}

// CheckTime parses a timestamp header and checks it is inside the window
// around now; it needs no secret, so a receiver can refuse a stale request
// before reading its body.
func CheckTime(now time.Time, timestamp string) (int64, error) {
	if timestamp == "" {
		return 0, ErrMissing
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	// Only the canonical decimal form is accepted: the signature covers the
	// timestamp as Sum writes it, so "+1764039600" or "01764039600" would be
	// checked against a string other than the header the client signed,
	// and one signature would be valid under several headers.
	if err != nil || strconv.FormatInt(ts, 10) != timestamp {
		return 0, ErrBadTime
	}
	if d := now.Unix() - ts; d > int64(Window/time.Second) || d < -int64(Window/time.Second) {
		return 0, ErrTimestamp
	}
	return ts, nil
}

// Guard remembers signatures seen inside the window so a captured request
// cannot be replayed. Memory is bounded by rate × window: entries live in
// one-minute generations keyed by when they expire and whole generations are
// dropped, so pruning costs nothing per request.
type Guard struct {
	mu   sync.Mutex
	gens map[int64]map[uint64]struct{} // expiry minute → signature prefixes
}

// NewGuard returns an empty replay guard.
func NewGuard() *Guard { return &Guard{gens: make(map[int64]map[uint64]struct{})} }

// Seen records a verified signature with its timestamp and reports ErrReplay if
// it was recorded before. The guard holds every signature of the window:
// at 5,000 requests a second, a million and a half. The first 8 bytes of
// an HMAC-SHA256 tell them apart (two of them colliding inside a window is
// a one in ten million chance, and costs a storefront one retry), in half
// the memory of 16.
func (g *Guard) Seen(now time.Time, timestamp int64, signature string) error {
	key, err := Key(signature)
	if err != nil {
		return err
	}
	return g.SeenKey(now, timestamp, key)
}

// Key is what the guard remembers of a signature: its first 8 bytes.
func Key(signature string) (uint64, error) {
	var prefix [8]byte
	if _, err := hex.Decode(prefix[:], []byte(signature[:min(len(signature), 16)])); err != nil {
		return 0, ErrSignature
	}
	return binary.LittleEndian.Uint64(prefix[:]), nil
}

// SeenKey is Seen for a signature's Key.
func (g *Guard) SeenKey(now time.Time, timestamp int64, key uint64) error {
	return g.record(now, timestamp, key, true)
}

// Note records a signature's Key that another receiver of the same
// storefronts saw, so that a replay of it here is refused too. Keys whose
// timestamp is outside the window around now are not kept: the window
// refuses those requests anyway.
func (g *Guard) Note(now time.Time, timestamp int64, key uint64) {
	if d := now.Unix() - timestamp; d > int64(Window/time.Second) || d < -int64(Window/time.Second) {
		return
	}
	_ = g.record(now, timestamp, key, false)
}

// record keeps key in the generation its timestamp expires in, after
// checking the generations for it if check is set.
func (g *Guard) record(now time.Time, timestamp int64, key uint64, check bool) error {
	expiry := (timestamp + int64(Window/time.Second)) / 60
	nowMin := now.Unix() / 60
	g.mu.Lock()
	defer g.mu.Unlock()
	for m := range g.gens {
		if m < nowMin {
			delete(g.gens, m)
		}
	}
	if check {
		for _, gen := range g.gens {
			if _, ok := gen[key]; ok {
				return ErrReplay
			}
		}
	}
	gen := g.gens[expiry]
	if gen == nil {
		gen = make(map[uint64]struct{})
		g.gens[expiry] = gen
	}
	gen[key] = struct{}{}
	return nil
}
