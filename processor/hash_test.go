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

// FuzzRequestHash: any request hashes as the encoder hashed it.
func FuzzRequestHash(f *testing.F) {
	f.Add("T-1", "CARD\u2028", 1)
	f.Add("\xff<&>", "\"\\", -7)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		r := Request{Storefront: "shop", ExternalID: a, SKU: b, Quantity: n, Amount: money.Amount(n) * 7,
			Buyer: storage.Buyer{ID: b, Contact: a + b, IP: a}, Account: b, Extra: map[string]string{a: b, b: a, "k": a}}
		if got, want := r.hash(), encoderHash(&r); !bytes.Equal(got, want) {
			t.Fatalf("hash of %+v is %x, the encoder's is %x", r, got, want)
		}
	})
}
