package storage

import (
	"strings"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

// TestAReplyWindowNumbersItsRepliesOnceEach: a group's window opened at 9:00
// for five minutes gives replies 1 to 5 and then none, even when the same
// message opens it again (its event handled again after a crash); a window
// opened on a newer message replaces it and starts again at 1; marking the
// old handle spent leaves the new one alone; at expiry it gives none, and
// the sweep deletes it. A record that is not JSON ("{garbled") is an error naming
// the chat, gives no reply, is deleted by the sweep, and Open writes over
// it.
func TestAReplyWindowNumbersItsRepliesOnceEach(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	const chat, limit = "group:G1", 5
	open := func(w ReplyWindow) {
		t.Helper()
		if err := s.Update(func(tx *Tx) error { return tx.ReplyWindows().Open(chat, w) }); err != nil {
			t.Fatal(err)
		}
	}
	take := func(now time.Time) (ReplyWindow, bool, error) {
		var w ReplyWindow
		var ok bool
		err := s.Update(func(tx *Tx) error {
			var err error
			w, ok, err = tx.ReplyWindows().Take(chat, now, limit)
			return err
		})
		return w, ok, err
	}
	sweep := func(now time.Time) int {
		t.Helper()
		var n int
		if err := s.Update(func(tx *Tx) error {
			var err error
			n, err = tx.ReplyWindows().Sweep(now, limit)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if _, ok, err := take(at); ok || err != nil {
		t.Fatalf("a chat without a window gave a reply (%v)", err)
	}
	first := ReplyWindow{MsgID: "m1", Expires: at.Add(5 * time.Minute)}
	open(first)
	for n := uint32(1); n <= limit; n++ {
		if w, ok, err := take(at); !ok || err != nil || w.Used != n || w.MsgID != "m1" {
			t.Fatalf("reply %d: %+v %v %v", n, w, ok, err)
		}
	}
	if _, ok, _ := take(at); ok {
		t.Fatal("a sixth reply was given")
	}
	open(first) // its event handled again after a crash: no reply left still
	if _, ok, _ := take(at); ok {
		t.Fatal("the same message opened again gave a reply numbered before")
	}

	open(ReplyWindow{EventID: "e2", Expires: at.Add(6 * time.Minute)})
	if err := s.Update(func(tx *Tx) error { return tx.ReplyWindows().Spend(chat, first, limit) }); err != nil {
		t.Fatal(err)
	}
	if w, ok, err := take(at.Add(time.Minute)); !ok || err != nil || w.Used != 1 || w.EventID != "e2" {
		t.Fatalf("the newer window after the old one was spent: %+v %v %v", w, ok, err)
	}
	if sweep(at.Add(time.Minute)) != 0 {
		t.Fatal("the sweep deleted an open window")
	}
	if _, ok, _ := take(at.Add(6 * time.Minute)); ok {
		t.Fatal("an expired window gave a reply")
	}
	if n := sweep(at.Add(6 * time.Minute)); n != 1 {
		t.Fatalf("the sweep deleted %d windows, want the expired one", n)
	}

	if err := s.Update(func(tx *Tx) error { return tx.tx.Bucket(bucketReplyWindows).Put([]byte(chat), []byte("{garbled")) }); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := take(at); ok || err == nil || !strings.Contains(err.Error(), chat) {
		t.Fatalf("a garbled window: ok %v, err %v; want an error naming %s", ok, err, chat)
	}
	open(ReplyWindow{MsgID: "m3", Expires: at.Add(5 * time.Minute)})
	if w, ok, err := take(at); !ok || err != nil || w.Used != 1 || w.MsgID != "m3" {
		t.Fatalf("Open over a garbled window: %+v %v %v", w, ok, err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.tx.Bucket(bucketReplyWindows).Put([]byte(chat), []byte("{garbled")) }); err != nil {
		t.Fatal(err)
	}
	if n := sweep(at); n != 1 {
		t.Fatalf("the sweep deleted %d windows, want the garbled one", n)
	}
}
