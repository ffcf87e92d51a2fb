package storage

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func fullEvents() map[string]*Event {
	at := time.Date(2026, 11, 25, 3, 12, 0, 123456789, time.UTC)
	return map[string]*Event{
		"callback": {Seq: 42, ID: "ev_42_a1b2c3d4e5f6", Kind: "callback", Type: "order.delivered", OrderID: 1234567,
			Target: "shop1", CreatedAt: at, Status: StatusDelivered, Reason: "reissue", UpdatedAt: at.Add(time.Second),
			DeliveredAt: at.Add(2 * time.Second), CardSet: 2, Attempts: 3, NextAt: at.Add(time.Minute),
			LastError: "storefront answered 502", Alerted: true},
		"alert": {Seq: 43, ID: "ev_43_000000000000", Kind: "alert", Type: "alert", CreatedAt: at, NextAt: at,
			Alert: &Alert{Key: "out_of_stock:qb-100", Type: "out_of_stock", OrderID: 7, SKU: "qb-100", Count: 2, Detail: "库存不足"}},
		"claim resolved": {Seq: 44, ID: "ev_44_000000000001", Kind: "callback", Type: "claim.resolved", OrderID: 12,
			Target: "shop1", CreatedAt: at, Status: StatusRefunded, Reason: "operator:alice", UpdatedAt: at, CardSet: 1,
			ClaimID: 300, NextAt: at},
		"claim prompt": {Seq: 45, ID: "ev_45_000000000002", Kind: "alert", Type: "claim", CreatedAt: at, NextAt: at,
			Alert: &Alert{Key: "claim:3", Type: "claim", OrderID: 12, SKU: "qb-100", Target: "shop1", Count: 1,
				Claim: &ClaimPrompt{ID: 3, Reason: "card_invalid", Quantity: 1, Cards: 1, Message: "提示已使用", Sources: []string{"fulu"}, History: 2}}},
		"minimal": {Seq: 1},
	}
}

func TestEventCodecRoundTrips(t *testing.T) {
	for name, ev := range fullEvents() {
		t.Run(name, func(t *testing.T) {
			b, err := encodeEvent(nil, ev)
			if err != nil {
				t.Fatal(err)
			}
			var back Event
			if err := decodeEvent(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*ev, back) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, *ev)
			}
		})
	}
}

// TestEventCodecReadsEventsWrittenAsJSON: a store written by an earlier
// version holds its unacknowledged events as JSON; they must still go out.
func TestEventCodecReadsEventsWrittenAsJSON(t *testing.T) {
	ev := fullEvents()["alert"]
	old, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := decodeEvent(old, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*ev, back) {
		t.Fatalf("JSON event read as %+v, want %+v", back, *ev)
	}
}

// TestEventCodecRejectsDamage: every truncation, a trailing byte, an unknown
// format byte and a broken alert are errors, not panics or half events.
func TestEventCodecRejectsDamage(t *testing.T) {
	b, err := encodeEvent(nil, fullEvents()["alert"])
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		var ev Event
		if err := decodeEvent(b[:n], &ev); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", n, len(b))
		}
	}
	var ev Event
	if err := decodeEvent(append(b, 0), &ev); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if err := decodeEvent([]byte{99, 1}, &ev); err == nil {
		t.Fatal("unknown format accepted")
	}
	e := encoder{b: []byte{eventFormat}}
	e.uvarint(1)
	for range 5 {
		e.str("")
	}
	e.time(time.Time{})
	e.str("")
	e.str("")
	e.time(time.Time{})
	e.time(time.Time{})
	e.varint(0)
	e.str("{not json")
	e.varint(0)
	e.time(time.Time{})
	e.str("")
	e.bool(false)
	e.uvarint(0)
	if err := decodeEvent(e.b, &ev); err == nil {
		t.Fatal("broken alert accepted")
	}
}

// TestOnlyAClaimEventIsWrittenInFormatTwo: every event but a
// claim.resolved callback is written in format 1, which a build from
// before claims reads; a format 2 event carries its claim id.
func TestOnlyAClaimEventIsWrittenInFormatTwo(t *testing.T) {
	for name, ev := range fullEvents() {
		b, err := encodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		want := byte(eventFormat1)
		if ev.ClaimID != 0 {
			want = eventFormat
		}
		if b[0] != want {
			t.Errorf("%s written in format %d, want %d", name, b[0], want)
		}
	}
}

// TestAnOwnedEventIsWrittenInFormatThree: the owner of an event (several
// processes on PostgreSQL) round-trips with its claim id; an event without
// one keeps format 1 or 2.
func TestAnOwnedEventIsWrittenInFormatThree(t *testing.T) {
	for name, ev := range fullEvents() {
		ev.Owner = "m-77aa01"
		b, err := encodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != eventFormat3 {
			t.Errorf("%s with an owner written in format %d", name, b[0])
		}
		var got Event
		if err := decodeEvent(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Owner != ev.Owner || got.ClaimID != ev.ClaimID {
			t.Errorf("%s decoded owner %q claim %d, want %q %d", name, got.Owner, got.ClaimID, ev.Owner, ev.ClaimID)
		}
	}
}
