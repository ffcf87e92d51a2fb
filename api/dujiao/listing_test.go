package dujiao

import (
	"fmt"
	"testing"

	"cardflow/api/docking"
	"cardflow/config"
)

// listingCatalogue is own-stock cards, a product a remote supplier can
// supply, and a direct top-up with its form: every shape a product's JSON
// takes.
func listingCatalogue() *catalog {
	ps := []config.Product{
		{SKU: "remote", Name: "Steam", Kind: config.KindCard, MaxQuantity: 5, ID: 3000, Price: 1900,
			Sources: []config.Source{{Supplier: "own", Units: 1}, {Supplier: "sim", Item: "steam", Units: 1}}},
		{SKU: "mobile", Name: "话费", Kind: config.KindDirect, MaxQuantity: 1, ID: 3001, Price: 9800,
			Category: "话费", AccountLabel: "手机号", Sources: []config.Source{{Supplier: "sim", Item: "mobile", Units: 1}}},
	}
	for i := range 6 {
		ps = append(ps, config.Product{SKU: fmt.Sprintf("card-%d", i), Name: "卡 <&>", Kind: config.KindCard, MaxQuantity: 5,
			ID: uint32(1000 + i), Price: 950, Category: fmt.Sprintf("分类 %d", i%2), Description: "仅限<自营>",
			Sources: []config.Source{{Supplier: "own", Units: 1}}})
	}
	return newCatalog(ps, []config.Supplier{{Name: "own", Type: config.SupplierStock}, {Name: "sim", Type: "sim"}})
}

// TestAListingWritesWhatEncodingJSONWritesWhateverItKeptBefore renders
// pages and single products through the cache and compares them with
// MarshalOK of the same ProductsPage / ProductAnswer, across stock that
// rises, falls to zero and comes back, a product paused and resumed, and
// pages at the start, the middle, the end and past the end.
func TestAListingWritesWhatEncodingJSONWritesWhateverItKeptBefore(t *testing.T) {
	c := listingCatalogue()
	l := newListing(c)
	states := []docking.Levels{
		{Stock: map[string]int{}, Paused: map[string]bool{}},
		{Stock: map[string]int{"card-0": 7, "card-3": 1}, Paused: map[string]bool{}},
		{Stock: map[string]int{"card-0": 7, "card-3": 0, "card-5": 250}, Paused: map[string]bool{"card-0": true, "mobile": true}},
		{Stock: map[string]int{"card-0": 6, "card-3": 1}, Paused: map[string]bool{}},
		{Stock: map[string]int{"card-0": 7, "card-3": 1}, Paused: map[string]bool{}}, // as the second again
	}
	queries := []PageQuery{{Page: 1, PageSize: 3}, {Page: 2, PageSize: 3, IncludeInactive: true}, {Page: 3, PageSize: 3},
		{Page: 9, PageSize: 50, IncludeInactive: true}, {Page: 1, PageSize: 200, IncludeInactive: true}}
	for n, st := range states {
		for _, q := range queries {
			want := ProductsPage{Items: Array[Product]{}, Page: q.Page, PageSize: q.PageSize, IncludesInactive: q.IncludeInactive}
			var items []int
			for i, p := range c.Products {
				if !q.IncludeInactive && st.Paused[p.SKU] {
					continue
				}
				if want.Total >= (q.Page-1)*q.PageSize && len(items) < q.PageSize {
					items = append(items, i)
					want.Items = append(want.Items, c.product(p, st))
				}
				want.Total++
			}
			got, err := l.page(items, st, want.Total, q)
			if err != nil {
				t.Fatal(err)
			}
			if w, _ := MarshalOK(want); string(got) != string(w) {
				t.Fatalf("state %d, %+v:\n got %s\nwant %s", n, q, got, w)
			}
		}
		for i, p := range c.Products {
			got, err := l.one(i, st)
			if err != nil {
				t.Fatal(err)
			}
			if w, _ := MarshalOK(ProductAnswer{Product: c.product(p, st)}); string(got) != string(w) {
				t.Fatalf("state %d, product %s:\n got %s\nwant %s", n, p.SKU, got, w)
			}
		}
	}
}

// BenchmarkProductPage is a 50-product page of a 500-product catalogue
// written through the listing beside encoding/json writing it whole, with
// one product's stock changing between pages as it does while orders flow.
func BenchmarkProductPage(b *testing.B) {
	var ps []config.Product
	levels := map[string]int{}
	for i := range 500 {
		sku := fmt.Sprintf("bench-%d", i)
		ps = append(ps, config.Product{SKU: sku, Name: "Bench product", Kind: config.KindCard, MaxQuantity: 5,
			ID: uint32(1001 + i), Price: 1000, Category: fmt.Sprintf("Bench %d", i%10), Sources: []config.Source{{Supplier: "own", Units: 1}}})
		levels[sku] = 1000
	}
	c := newCatalog(ps, []config.Supplier{{Name: "own", Type: config.SupplierStock}})
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	q := PageQuery{Page: 1, PageSize: 50}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			levels["bench-0"]--
			st := docking.Levels{Stock: levels, Paused: map[string]bool{}}
			page := ProductsPage{Items: Array[Product]{}, Total: 500, Page: 1, PageSize: 50}
			for _, i := range items {
				page.Items = append(page.Items, c.product(c.Products[i], st))
			}
			if _, err := MarshalOK(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("listing", func(b *testing.B) {
		l := newListing(c)
		b.ReportAllocs()
		for b.Loop() {
			levels["bench-0"]--
			if _, err := l.page(items, docking.Levels{Stock: levels, Paused: map[string]bool{}}, 500, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
