package storage

import (
	"cardflow/internal/money"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func fullOrder() *Order {
	at := time.Date(2026, 11, 25, 3, 12, 0, 123456789, time.UTC)
	o := &Order{
		ID: 1234567, ExternalID: "T20261125-0001", Storefront: "shop1", SKU: "qb-100", Kind: "direct", Quantity: 3,
		Amount: 30000, Buyer: Buyer{ID: "u-8812", Contact: "a@example.com", IP: "203.0.113.9"}, Account: "12345678",
		Extra: map[string]string{"region": "电信一区", "server": ""}, RequestHash: []byte{1, 2, 3, 4},
		Status: StatusDelivered, Reason: "reissue", CreatedAt: at, UpdatedAt: at.Add(time.Second),
		DeliveredAt: at.Add(2 * time.Second),
		Cards:       []SealedCard{{FP: Fingerprint{1, 2}, Box: []byte("box-1")}, {FP: Fingerprint{3}, Box: []byte("box-2")}},
		Replaced:    [][]SealedCard{{{FP: Fingerprint{9}, Box: []byte("old")}}},
		History: []Transition{
			{At: at, To: StatusPending, Actor: Actor{Name: "shop1", Platform: "storefront"}},
			{At: at.Add(time.Second), From: StatusPending, To: StatusDelivered, Reason: "reissue", Actor: System},
		},
		Features: &Features{Orders1h: 2, Orders24h: 7, Amount24h: 123456, Refunds30d: 1, FirstSeenDays: 40, Hour: 23},
		Attempts: []Attempt{
			{No: "CF1234567-0-a1b2c3", Supplier: "fulu", Item: "10000587", Batch: 0, Quantity: 2, Units: 4,
				State: AttemptSucceeded, Detail: "code 0", SentAt: at, NextAt: at.Add(3 * time.Second), Queries: 3,
				Resubmits: 1, Cost: 400, SupplierID: "24010203040500000002",
				Cards: []SealedCard{{FP: Fingerprint{7}, Box: []byte("c")}}, EndedAt: at.Add(4 * time.Second), Archived: true},
			{No: "CF1234567-1-d4e5f6", Supplier: "sim", Batch: 1, Quantity: 1, Units: 1, State: AttemptFailed,
				Reason: "out_of_stock", SentAt: at},
		},
	}
	return o
}

func TestOrderCodecRoundTrips(t *testing.T) {
	full := fullOrder()
	full.DelayCauses = []string{"out_of_stock", "supplier_unavailable"}
	charged := fullOrder()
	charged.Charged = 1900
	for name, o := range map[string]*Order{"full": full, "minimal": {ID: 1, Status: StatusPending}, "charged": charged} {
		t.Run(name, func(t *testing.T) {
			var back Order
			if err := decodeOrder(encodeOrder(nil, o), &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*o, back) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, *o)
			}
		})
	}
}

// TestOrderStoredByTheFirstFormatStillDecodes: testdata/order-format1.hex
// is fullOrder as the format-1 encoder wrote it, before orders kept their
// delay causes. It decodes to the same order, with none told.
func TestOrderStoredByTheFirstFormatStillDecodes(t *testing.T) {
	text, err := os.ReadFile("testdata/order-format1.hex")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || b[0] != orderFormat1 {
		t.Fatalf("testdata: %v, format %d", err, b[0])
	}
	var o Order
	if err := decodeOrder(b, &o); err != nil {
		t.Fatalf("a format-1 order no longer decodes: %v", err)
	}
	if want := fullOrder(); !reflect.DeepEqual(o, *want) {
		t.Fatalf("format-1 order decodes as\n %+v\nwant %+v", o, *want)
	}
}

// TestOnlyAChargedOrderIsWrittenInTheThirdFormat: an order that took no
// docking shop's money stays in format 2, which an older cardflow reads.
func TestOnlyAChargedOrderIsWrittenInTheThirdFormat(t *testing.T) {
	o := fullOrder()
	if b := encodeOrder(nil, o); b[0] != orderFormat2 {
		t.Fatalf("an uncharged order is written in format %d", b[0])
	}
	o.Charged = 1
	if b := encodeOrder(nil, o); b[0] != orderFormat3 {
		t.Fatalf("a charged order is written in format %d", b[0])
	}
}

func TestOrderCodecRejectsEveryTruncationWithoutPanicking(t *testing.T) {
	full := fullOrder()
	full.DelayCauses = []string{"out_of_stock"}
	full.Charged = 950
	b := encodeOrder(nil, full)
	for n := range len(b) {
		var o Order
		if err := decodeOrder(b[:n], &o); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", n, len(b))
		}
	}
	var o Order
	if err := decodeOrder(append(b, 0), &o); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if err := decodeOrder([]byte{99, 1}, &o); err == nil {
		t.Fatal("unknown format accepted")
	}
	if err := decodeOrder([]byte{0, 1}, &o); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// FuzzDecodeOrder: whatever bytes a damaged file holds, decoding answers an
// error or an order, and never panics or allocates without bound.
func FuzzDecodeOrder(f *testing.F) {
	f.Add(encodeOrder(nil, fullOrder()))
	f.Add(encodeOrder(nil, &Order{ID: 1}))
	f.Add([]byte{orderFormat2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Order
		if decodeOrder(b, &o) != nil {
			return
		}
		var back Order
		if err := decodeOrder(encodeOrder(nil, &o), &back); err != nil {
			t.Fatalf("re-encoding a decoded order fails: %v", err)
		}
	})
}

// TestOnlyAnOwnedOrderIsWrittenInTheFourthFormat: a bbolt file's orders
// have no owner and keep the formats an older build reads; an owned one
// (several processes on PostgreSQL) round-trips its owner, charged or not.
func TestOnlyAnOwnedOrderIsWrittenInTheFourthFormat(t *testing.T) {
	for _, charged := range []money.Amount{0, 250} {
		o := fullOrder()
		o.Charged = charged
		o.Owner = "m-3f2a9c01"
		b := encodeOrder(nil, o)
		if b[0] != orderFormat4 {
			t.Fatalf("an owned order is written in format %d", b[0])
		}
		var got Order
		if err := decodeOrder(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Owner != o.Owner || got.Charged != charged {
			t.Errorf("decoded owner %q charged %d, want %q %d", got.Owner, got.Charged, o.Owner, charged)
		}
		for n := range len(b) {
			if err := decodeOrder(b[:n], &Order{}); err == nil {
				t.Fatalf("a format 4 order cut at %d of %d bytes decoded", n, len(b))
			}
		}
	}
}
