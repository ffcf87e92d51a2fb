package processor

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"sort"
	"testing"

	"cardflow/internal/money"
	"cardflow/storage"
)

func sampleView(s string) OrderView {
	at := "2026-11-25T03:12:00Z"
	return OrderView{ID: "12", ExternalID: s, Storefront: "shop1", SKU: "qb-100", Quantity: 3, Amount: "300.00",
		Status: "delivered", Reason: s, CreatedAt: at, UpdatedAt: at, DeliveredAt: &at,
		Cards: []CardView{{Number: s, Password: "p<w>&d", ExpiresAt: ""}, {Number: "CARD-2", Password: "x"}}}
}

// TestViewJSONIsEncodingJSONsByteForByte: for strings with quotes,
// backslashes, control bytes, HTML characters, U+2028, Chinese, emoji and
// invalid UTF-8, and for views without cards or delivery time, the hand
// encoder writes exactly what encoding/json writes.
func TestViewJSONIsEncodingJSONsByteForByte(t *testing.T) {
	for _, s := range []string{"", "T20261125-0001", `a"b\c`, "line\nbreak\r\t\b\f\x00\x1f\x7f", "<script>&</script>",
		"\u2028\u2029", "订单 🎉", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80"} {
		for _, v := range []OrderView{sampleView(s), {ID: s, Quantity: -1}} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("for %q:\n got %s\nwant %s", s, got, want)
			}
			body := CallbackBody{EventID: "ev_1_" + s, Type: "order.delivered", CreatedAt: s, Order: v}
			want, _ = json.Marshal(body)
			if got := body.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("callback for %q:\n got %s\nwant %s", s, got, want)
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
		r := Request{Storefront: "shop", ExternalID: a, SKU: b, Quantity: n, Amount: money.Amount(n) * 7,
			Buyer: storage.Buyer{ID: b, Contact: a + b, IP: a}, Account: b, Extra: map[string]string{a: b, b: a, "k": a}}
		if got, want := r.hash(), encoderHash(&r); !bytes.Equal(got, want) {
			t.Fatalf("hash of %+v is %x, the encoder's is %x", r, got, want)
		}
	})
}

// encoderHash is Request.hash as it was first written, with json.Encoder:
// the stored orders' request hashes were made by it, so a retried submit
// after an upgrade must hash the same.
func encoderHash(r *Request) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	extra := make([][2]string, 0, len(keys))
	for _, k := range keys {
		extra = append(extra, [2]string{k, r.Extra[k]})
	}
	_ = enc.Encode([]any{r.Storefront, r.ExternalID, r.SKU, r.Quantity, int64(r.Amount), r.Buyer.ID, r.Buyer.Contact, r.Buyer.IP, r.Account, extra})
	sum := sha256.Sum256(buf.Bytes())
	return sum[:]
}

func TestRequestHashIsTheEncodersBytes(t *testing.T) {
	for _, r := range []Request{
		{},
		{Storefront: "shop", ExternalID: "T-1", SKU: "JD-100", Quantity: 2, Amount: 19900},
		{Storefront: "shop", ExternalID: "<&>\"\\", SKU: "\xff\xfe", Quantity: -3, Amount: -1,
			Buyer: storage.Buyer{ID: "\u2028\u2029", Contact: "a@b.c\n\t\r\b\f\x01", IP: "10.0.0.1"}, Account: "账号",
			Extra: map[string]string{"z": "1", "a": "<b>", "": ""}},
	} {
		if got, want := r.hash(), encoderHash(&r); !bytes.Equal(got, want) {
			t.Errorf("hash of %+v is %x, the encoder's is %x", r, got, want)
		}
	}
}

// BenchmarkViewJSON compares the hand encoder with encoding/json on a
// delivered order's callback.
func BenchmarkViewJSON(b *testing.B) {
	body := CallbackBody{EventID: "ev_12_a1b2c3d4e5f6", Type: "order.delivered", CreatedAt: "2026-11-25T03:12:00Z",
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
