package dujiao

import (
	"fmt"
	"hash/crc32"
	"net/http"

	"cardflow/internal/money"
)

// SiteName is what a shop shows its admin for cardflow after a ping.
const SiteName = "cardflow"

// ping is POST /ping, the shop's connection test: it shows the live
// balance. user_id is a checksum of the shop's id, stable across restarts
// and config changes; cardflow has no users behind it.
func (a *api) ping(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	balance, err := a.balance(s.ID)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, Ping{SiteName: SiteName, ProtocolVersion: ProtocolVersion, UserID: uint64(max(crc32.ChecksumIEEE([]byte(s.ID)), 1)),
		Balance: balance, Currency: Currency})
}

func (a *api) balance(id string) (money.Amount, error) {
	all, err := a.engine.Balances()
	if err != nil {
		return 0, fmt.Errorf("read balances: %w", err)
	}
	for _, b := range all {
		if b.Storefront == id {
			return b.Balance, nil
		}
	}
	return 0, nil
}

// categories is GET /categories: the products' category names, one level.
func (a *api) categories(w http.ResponseWriter, r *http.Request, _ *shop, _ []byte) {
	a.ok(w, r, Categories{Categories: a.catalog.categories})
}

// products is GET /products. updated_after is ignored: every answer is the
// whole selection, so a shop never misses a change of stock, and total
// counts it. Without include_inactive a paused product is left out.
func (a *api) products(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	q := ParsePageQuery(r.URL.Query())
	st, err := a.state()
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	page := ProductsPage{Items: Array[Product]{}, Page: q.Page, PageSize: q.PageSize, IncludesInactive: q.IncludeInactive}
	from := (q.Page - 1) * q.PageSize
	for _, p := range a.catalog.products {
		if !q.IncludeInactive && st.paused[p.SKU] {
			continue
		}
		if page.Total >= from && len(page.Items) < q.PageSize {
			page.Items = append(page.Items, a.catalog.product(p, st))
		}
		page.Total++
	}
	a.ok(w, r, page)
}

// product is GET /products/{id}, also a shop's stock check before it takes
// its buyer's order. A paused product is answered with is_active false.
func (a *api) product(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	id, ok := ParseID(r.PathValue("id"))
	p, found := a.catalog.find(id)
	if !ok || !found {
		a.fail(w, r, s, NotFound(CodeProductNotFound, "no such product"))
		return
	}
	st, err := a.state()
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, ProductAnswer{Product: a.catalog.product(p, st)})
}

func (a *api) state() (state, error) {
	levels, err := a.engine.StockLevels()
	if err != nil {
		return state{}, fmt.Errorf("read stock levels: %w", err)
	}
	paused, err := a.engine.PausedProducts()
	if err != nil {
		return state{}, fmt.Errorf("read paused products: %w", err)
	}
	st := state{levels: levels, paused: make(map[string]bool, len(paused))}
	for _, sku := range paused {
		st.paused[sku] = true
	}
	return st, nil
}
