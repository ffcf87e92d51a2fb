package processor

import (
	"errors"
	"testing"

	"cardflow/internal/money"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// TestResolveOrderNamesOneOrderOrListsTheCandidates: "#id" is an internal
// id; "storefront:external" a storefront's external id (which may itself
// hold colons); a bare value only when one order has it, as internal id or
// any storefront's external id. Tried: a bare "1" that is order #1 and
// shop2's external id, an external id both storefronts use, an unknown
// storefront prefix, "#" with no number, leading zeros.
func TestResolveOrderNamesOneOrderOrListsTheCandidates(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Storefronts = append(o.Storefronts, outbox.Storefront{ID: "shop2", Secret: []byte("s2"), CallbackURL: o.Storefronts[0].CallbackURL})
	})
	sku := testProducts[0].SKU
	submit := func(sf, ext string) *storage.Order {
		o, _, err := f.engine.Submit(Request{Storefront: sf, ExternalID: ext, SKU: sku, Quantity: 1, Amount: money.Amount(100),
			Buyer: storage.Buyer{ID: "u1"}})
		if err != nil {
			t.Fatalf("submit %s:%s: %v", sf, ext, err)
		}
		return o
	}
	one := submit("shop", "A:B")  // #1
	two := submit("shop2", "1")   // #2
	three := submit("shop", "T7") // #3
	four := submit("shop2", "T7") // #4

	for _, tc := range []struct {
		ref  string
		want uint64   // the order named, or
		amb  []uint64 // the candidates
	}{
		{ref: "#1", want: one.ID},
		{ref: "#0002", want: two.ID},
		{ref: "shop:A:B", want: one.ID},
		{ref: "A:B", want: one.ID},
		{ref: "shop2:1", want: two.ID},
		{ref: "1", amb: []uint64{one.ID, two.ID}},
		{ref: "T7", amb: []uint64{three.ID, four.ID}},
		{ref: "shop2:T7", want: four.ID},
		{ref: "3", want: three.ID},
		{ref: "nosuch:T7"},
		{ref: "#"},
		{ref: "#T7"},
		{ref: "shop:1"},
		{ref: ""},
	} {
		o, err := f.engine.ResolveOrder(tc.ref)
		var amb *AmbiguousError
		switch {
		case tc.want != 0 && (err != nil || o.ID != tc.want):
			t.Errorf("%q: %v %v, want order #%d", tc.ref, o, err, tc.want)
		case tc.amb != nil && !errors.As(err, &amb):
			t.Errorf("%q: %v %v, want the candidates %v", tc.ref, o, err, tc.amb)
		case tc.amb != nil:
			var got []uint64
			for _, c := range amb.Candidates {
				got = append(got, c.ID)
			}
			if len(got) != len(tc.amb) || got[0] != tc.amb[0] || got[1] != tc.amb[1] {
				t.Errorf("%q: candidates %v, want %v", tc.ref, got, tc.amb)
			}
		case tc.want == 0 && tc.amb == nil && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%q: %v %v, want not found", tc.ref, o, err)
		}
	}
}
