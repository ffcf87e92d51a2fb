package processor

import (
	"fmt"
	"testing"

	"cardflow/storage"
)

// TestFindBuyerOrdersMatchesIDContactOrAccountNewestFirst: a buyer is
// found by their storefront buyer id, their contact (in any case, with
// spaces around it) or a top-up account; the newest orders come first and
// the count covers every match read. Input tried: "", "  ", a value no
// order has.
func TestFindBuyerOrdersMatchesIDContactOrAccountNewestFirst(t *testing.T) {
	f := newFixture(t, nil)
	submit := func(ext string, b storage.Buyer) *storage.Order {
		o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: ext, SKU: "qb-10", Quantity: 1, Amount: 1000, Buyer: b})
		if err != nil {
			t.Fatalf("submit %s: %v", ext, err)
		}
		return o
	}
	a1 := submit("A1", storage.Buyer{ID: "u-a", Contact: "Alice@Example.com"})
	submit("B1", storage.Buyer{ID: "u-b", Contact: "bob@example.com"})
	a2 := submit("A2", storage.Buyer{ID: "u-a2", Contact: "alice@example.com"})
	a3 := submit("A3", storage.Buyer{ID: "u-a"})

	for _, tc := range []struct {
		who  string
		want []uint64
	}{
		{"u-a", []uint64{a3.ID, a1.ID}},
		{" ALICE@example.com ", []uint64{a2.ID, a1.ID}},
		{"nobody", nil},
		{"", nil},
		{"  ", nil},
	} {
		res, err := f.engine.FindBuyerOrders(tc.who, 10)
		if err != nil {
			t.Fatalf("find %q: %v", tc.who, err)
		}
		var got []uint64
		for _, o := range res.Orders {
			got = append(got, o.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || res.Matched != len(tc.want) {
			t.Errorf("find %q = %v (%d matched), want %v", tc.who, got, res.Matched, tc.want)
		}
		if res.Capped {
			t.Errorf("find %q: capped with only 4 orders stored", tc.who)
		}
	}
	res, err := f.engine.FindBuyerOrders("u-a", 1)
	if err != nil || len(res.Orders) != 1 || res.Orders[0].ID != a3.ID || res.Matched != 2 {
		t.Errorf("find with limit 1 = %+v, %v; want the newest and a count of 2", res, err)
	}
}

// TestFindBuyerOrdersReadsABoundedNumberOfOrdersAndSaysSo: a search reads
// at most its bound of newest orders (here 30 of 75) and says older ones
// were left unread, so an old order of the buyer is not found.
func TestFindBuyerOrdersReadsABoundedNumberOfOrdersAndSaysSo(t *testing.T) {
	f := newFixture(t, nil)
	old, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "OLD", SKU: "qb-10", Quantity: 1, Amount: 1000,
		Buyer: storage.Buyer{ID: "u-old"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 74 {
		f.submit(fmt.Sprintf("N%d", i), "qb-10", 1, 1000)
	}
	res, err := f.engine.findBuyerOrders("u-old", 10, 30)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned != 30 || !res.Capped || len(res.Orders) != 0 {
		t.Fatalf("bounded search = scanned %d, capped %v, %d found; want 30 scanned, capped, none", res.Scanned, res.Capped, len(res.Orders))
	}
	res, err = f.engine.findBuyerOrders("u-old", 10, 75)
	if err != nil || res.Capped || len(res.Orders) != 1 || res.Orders[0].ID != old.ID {
		t.Fatalf("search of every order = %+v, %v; want the old order, not capped", res, err)
	}
}
