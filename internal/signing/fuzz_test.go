package signing

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"
)

// FuzzSignThenCheck signs arbitrary requests and checks that Check accepts
// exactly what Sum produced, and refuses the same request after any one of
// its signed parts (method, path and query, body, timestamp, signature, or
// the secret it is checked with) had one byte changed.
func FuzzSignThenCheck(f *testing.F) {
	f.Add([]byte("shop1-secret-2f9c41d07a"), int64(1_764_039_600), "POST", "/v1/orders",
		[]byte(`{"external_id":"T20261125-0001","sku":"qb-100","quantity":1,"amount":"100.00"}`), uint8(0), uint(0), byte(1))
	f.Add([]byte("k"), int64(1), "GET", "/v1/orders?external_id=T-1", []byte(nil), uint8(1), uint(3), byte(0x20))
	f.Add([]byte(""), int64(-1), "", "", []byte("\n"), uint8(2), uint(0), byte(0xff))
	f.Add(bytes.Repeat([]byte("s"), 100), int64(1<<62), "PATCH", "/v1/orders/12?x=%41&y=ü", []byte("body\nwith\nlines"), uint8(3), uint(7), byte(0x80))
	f.Add([]byte("secret"), int64(1_764_039_600), "POST", "/", []byte("{}"), uint8(4), uint(9), byte('1'^'2'))
	f.Add([]byte("secret"), int64(1_764_039_600), "POST", "/", []byte("{}"), uint8(5), uint(2), byte(1))

	f.Fuzz(func(t *testing.T, secret []byte, ts int64, method, path string, body []byte, part uint8, pos uint, delta byte) {
		now := time.Unix(ts, 0)
		tsText := strconv.FormatInt(ts, 10)
		sig := Sum(secret, ts, method, path, body)
		got, err := Check(secret, now, tsText, sig, method, path, body)
		if err != nil || got != ts {
			t.Fatalf("Check refused what Sum signed: ts %d, err %v", got, err)
		}
		if delta == 0 {
			delta = 1 // a change must change something
		}
		// flip changes the byte at pos (modulo the length) of s; it reports
		// false when s is empty and there is nothing to change.
		flip := func(s []byte) ([]byte, bool) {
			if len(s) == 0 {
				return nil, false
			}
			c := bytes.Clone(s)
			c[pos%uint(len(c))] ^= delta
			return c, true
		}
		tSecret, tMethod, tPath, tBody, tTS, tSig := secret, method, path, body, tsText, sig
		var ok bool
		switch part % 6 {
		case 0:
			tBody, ok = flip(body)
		case 1:
			var b []byte
			b, ok = flip([]byte(path))
			tPath = string(b)
		case 2:
			var b []byte
			b, ok = flip([]byte(method))
			tMethod = string(b)
		case 3:
			var b []byte
			b, ok = flip([]byte(tsText))
			tTS = string(b)
		case 4:
			var b []byte
			b, ok = flip([]byte(sig))
			tSig = string(b)
		case 5:
			tSecret, ok = flip(secret)
		}
		if !ok {
			return
		}
		if _, err := Check(tSecret, now, tTS, tSig, tMethod, tPath, tBody); err == nil {
			t.Fatalf("Check accepted a request with part %d changed at byte %d", part%6, pos)
		}
	})
}

// FuzzCheckHeaders feeds Check and the replay guard what a client may put in
// the headers. Check must never panic and may only accept a signature that
// Sum agrees with, for a canonical timestamp inside the window; the guard
// must accept a signature once and refuse it after that.
func FuzzCheckHeaders(f *testing.F) {
	const now = 1_764_039_600
	good := Sum([]byte("secret"), now, "POST", "/v1/orders", []byte("{}"))
	f.Add(int64(now), strconv.Itoa(now), good, "POST", "/v1/orders", []byte("{}"))
	f.Add(int64(now), "", "", "GET", "/", []byte(nil))
	f.Add(int64(now), "yesterday", "zz", "GET", "/", []byte(nil))
	f.Add(int64(now), "+"+strconv.Itoa(now), good, "POST", "/v1/orders", []byte("{}"))
	f.Add(int64(now), "0"+strconv.Itoa(now), good, "POST", "/v1/orders", []byte("{}"))
	f.Add(int64(now+300), strconv.Itoa(now), good, "POST", "/v1/orders", []byte("{}"))
	f.Add(int64(now), "-9223372036854775808", "00", "POST", "/", []byte("{}"))
	f.Add(int64(-9223372036854775808), "9223372036854775807", "ABCDEF", "POST", "/", []byte("{}"))

	f.Fuzz(func(t *testing.T, nowUnix int64, tsText, sig, method, path string, body []byte) {
		secret := []byte("secret")
		now := time.Unix(nowUnix, 0)
		ts, err := Check(secret, now, tsText, sig, method, path, body)
		g := NewGuard()
		// The guard only ever sees verified signatures, but it must not
		// crash on anything.
		_ = g.Seen(now, ts, sig)
		if err != nil {
			return
		}
		if want := Sum(secret, ts, method, path, body); sig != want {
			t.Fatalf("Check accepted signature %q, Sum says %q", sig, want)
		}
		if tsText != strconv.FormatInt(ts, 10) {
			t.Fatalf("Check accepted timestamp %q as %d: the signed text and the header differ", tsText, ts)
		}
		if d := nowUnix - ts; d > 300 || d < -300 {
			t.Fatalf("Check accepted timestamp %d at %d, outside the window", ts, nowUnix)
		}
		g = NewGuard()
		if err := g.Seen(now, ts, sig); err != nil {
			t.Fatalf("first Seen: %v", err)
		}
		if err := g.Seen(now, ts, sig); !errors.Is(err, ErrReplay) {
			t.Fatalf("second Seen = %v, want ErrReplay", err)
		}
	})
}
