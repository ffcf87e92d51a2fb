package view

import (
	"bytes"
	"encoding/json"
	"testing"
)

func sampleView(s string) Order {
	at := "2026-11-25T03:12:00Z"
	return Order{ID: "12", ExternalID: s, Storefront: "shop1", SKU: "qb-100", Quantity: 3, Amount: "300.00",
		Status: "delivered", Reason: s, CreatedAt: at, UpdatedAt: at, DeliveredAt: &at,
		Cards: []Card{{Number: s, Password: "p<w>&d", ExpiresAt: ""}, {Number: "CARD-2", Password: "x"}}}
}

func sampleClaim(s string) Claim {
	at, by := "2026-11-25T04:00:00Z", "claimed:"+s
	return Claim{ID: "3", OrderID: "12", Reason: "card_invalid", Message: s, Cards: []string{s, "CARD-2"}, Status: "refunded",
		Note: s, CreatedAt: at, ResolvedAt: &at, ResolvedBy: &by}
}

// TestViewJSONIsEncodingJSONsByteForByte: for strings with quotes,
// backslashes, control bytes, HTML characters, U+2028, Chinese, emoji and
// invalid UTF-8, and for views without cards or delivery time, with claims
// and with an empty list of them, and callbacks with a claim, the hand
// encoder writes exactly what encoding/json writes.
func TestViewJSONIsEncodingJSONsByteForByte(t *testing.T) {
	for _, s := range []string{"", "T20261125-0001", `a"b\c`, "line\nbreak\r\t\b\f\x00\x1f\x7f", "<script>&</script>",
		"\u2028\u2029", "订单 🎉", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80"} {
		withClaims := sampleView(s)
		withClaims.Claims = []Claim{sampleClaim(s), {ID: s}}
		noClaims := sampleView(s)
		noClaims.Claims = []Claim{}
		for _, v := range []Order{sampleView(s), {ID: s, Quantity: -1}, withClaims, noClaims} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("for %q:\n got %s\nwant %s", s, got, want)
			}
			claim := sampleClaim(s)
			for _, body := range []Callback{{EventID: "ev_1_" + s, Type: "order.delivered", CreatedAt: s, Order: v},
				{EventID: "ev_2_" + s, Type: "claim.resolved", CreatedAt: s, Order: v, Claim: &claim}} {
				want, _ = json.Marshal(body)
				if got := body.AppendJSON(nil); !bytes.Equal(got, want) {
					t.Fatalf("callback for %q:\n got %s\nwant %s", s, got, want)
				}
			}
		}
	}
}

// FuzzViewJSON: any strings encode exactly as encoding/json encodes them.
func FuzzViewJSON(f *testing.F) {
	f.Add("T-1", "CARD\u2028", 1)
	f.Add("\xff<&>", "\"\\", -7)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		v := sampleView(a)
		v.Cards[1].Password, v.Quantity = b, n
		want, err := json.Marshal(v)
		if err != nil {
			t.Skip()
		}
		if got := v.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkViewJSON compares the hand encoder with encoding/json on a
// delivered order's callback.
func BenchmarkViewJSON(b *testing.B) {
	body := Callback{EventID: "ev_12_a1b2c3d4e5f6", Type: "order.delivered", CreatedAt: "2026-11-25T03:12:00Z",
		Order: sampleView("T20261125-0001")}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = body.AppendJSON(make([]byte, 0, 1024))
		}
	})
}
