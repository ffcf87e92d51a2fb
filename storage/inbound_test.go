package storage

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"cardflow/storage/kv"

	"cardflow/internal/testkit"
)

func inboundSeqs(t *testing.T, s *Store) []uint64 {
	t.Helper()
	var seqs []uint64
	_ = s.View(func(tx *Tx) error {
		tx.Inbound().Stored(1000, func(seq uint64, _ []byte) { seqs = append(seqs, seq) })
		return nil
	})
	return seqs
}

func parkedEvents(t *testing.T, s *Store) []ParkedEvent {
	t.Helper()
	var out []ParkedEvent
	if err := s.View(func(tx *Tx) error { return tx.Inbound().Parked(func(p ParkedEvent) { out = append(out, p) }) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInboundAttemptsAreCountedUpToTheLimit: each begun handling is counted
// in the stored event; at the limit Begin refuses, and the body
// read back is the body stored, whatever the count.
func TestInboundAttemptsAreCountedUpToTheLimit(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e1","t":"C2C_MESSAGE_CREATE"}`)
	if err := s.Update(func(tx *Tx) error { _, err := tx.Inbound().Enqueue("qq:e1", body, now); return err }); err != nil {
		t.Fatal(err)
	}
	seq := inboundSeqs(t, s)[0]
	for want := 1; want <= 4; want++ {
		var n int
		var begin bool
		if err := s.Update(func(tx *Tx) error {
			var err error
			n, begin, err = tx.Inbound().Begin(seq, 3)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if wantBegin := want <= 3; begin != wantBegin || n != min(want, 3) {
			t.Fatalf("begin %d: %d, %v; want %d, %v", want, n, begin, min(want, 3), wantBegin)
		}
		var got []byte
		_ = s.View(func(tx *Tx) error { tx.Inbound().Stored(1, func(_ uint64, b []byte) { got = b }); return nil })
		if !bytes.Equal(got, body) {
			t.Fatalf("body after %d attempts = %q", want, got)
		}
	}
	if err := s.Update(func(tx *Tx) error {
		n, begin, err := tx.Inbound().Begin(seq+99, 3)
		if n != 0 || begin || err != nil {
			t.Errorf("an unknown event: %d, %v, %v", n, begin, err)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestInboundEventsOfAnEarlierBuildReadAsNeverBegun: a file written by a
// build that stored bare bodies is read as it was, with no attempts.
func TestInboundEventsOfAnEarlierBuildReadAsNeverBegun(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	body := []byte(`{"id":"old","op":0,"t":"GROUP_AT_MESSAGE_CREATE","d":{}}`)
	if err := s.db.Update(func(ktx kv.Tx) error { return ktx.Bucket(bucketInbound).Put(u64(7), body) }); err != nil {
		t.Fatal(err)
	}
	var got []byte
	_ = s.View(func(tx *Tx) error { tx.Inbound().Stored(1, func(_ uint64, b []byte) { got = b }); return nil })
	if !bytes.Equal(got, body) {
		t.Fatalf("read %q", got)
	}
	if err := s.Update(func(tx *Tx) error {
		n, begin, err := tx.Inbound().Begin(7, 3)
		if n != 1 || !begin {
			t.Errorf("first attempt of an old event: %d, %v", n, begin)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestParkedInboundIsBoundedAndPurged: parking moves an event off the
// queue with its attempts and reason; beyond MaxParkedInbound the oldest
// go; after InboundParkedFor all go.
func TestParkedInboundIsBoundedAndPurged(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	const n = MaxParkedInbound + 20
	if err := s.Update(func(tx *Tx) error {
		for i := range n {
			if _, err := tx.Inbound().Enqueue(fmt.Sprintf("qq:e%d", i), []byte(fmt.Sprintf(`{"id":"e%d"}`, i)), now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seqs := inboundSeqs(t, s)
	if err := s.Update(func(tx *Tx) error {
		if _, _, err := tx.Inbound().Begin(seqs[0], 3); err != nil {
			return err
		}
		for _, seq := range seqs {
			if err := tx.Inbound().Park(seq, "handling it panicked", now); err != nil {
				return err
			}
		}
		return tx.Inbound().Park(seqs[0], "again", now) // gone already: no error
	}); err != nil {
		t.Fatal(err)
	}
	if left := inboundSeqs(t, s); len(left) != 0 {
		t.Fatalf("%d events still queued", len(left))
	}
	p := parkedEvents(t, s)
	if len(p) != MaxParkedInbound || p[0].Seq != seqs[n-MaxParkedInbound] || p[len(p)-1].Seq != seqs[n-1] {
		t.Fatalf("parked %d, from %d to %d; want the newest %d", len(p), p[0].Seq, p[len(p)-1].Seq, MaxParkedInbound)
	}
	if p[0].Why != "handling it panicked" || !bytes.Contains(p[0].Body, []byte(`"id"`)) {
		t.Errorf("parked event = %+v", p[0])
	}

	var purged int
	for _, at := range []time.Time{now.Add(InboundParkedFor - time.Second), now.Add(InboundParkedFor + time.Second)} {
		if err := s.Update(func(tx *Tx) error {
			var err error
			purged, err = tx.Inbound().PurgeParked(at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if left := parkedEvents(t, s); len(left) != 0 || purged != MaxParkedInbound {
		t.Errorf("after %s: %d parked left, %d purged", InboundParkedFor, len(left), purged)
	}
}
