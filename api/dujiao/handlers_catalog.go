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
// counts it. Without include_inactive a paused product is left out. Only
// the page's products have their stock read.
func (a *api) products(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	q := ParsePageQuery(r.URL.Query())
	paused, err := a.paused()
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	var items []int // catalogue indexes
	var skus []string
	total, from := 0, (q.Page-1)*q.PageSize
	for i, p := range a.catalog.products {
		if !q.IncludeInactive && paused[p.SKU] {
			continue
		}
		if total >= from && len(items) < q.PageSize {
			items, skus = append(items, i), append(skus, p.SKU)
		}
		total++
	}
	levels, err := a.engine.StockLevelsOf(skus)
	if err != nil {
		a.fail(w, r, s, fmt.Errorf("read stock levels: %w", err))
		return
	}
	body, err := a.listing.page(items, state{levels: levels, paused: paused}, total, q)
	a.okJSON(w, r, body, err)
}

// product is GET /products/{id}, also a shop's stock check before it takes
// its buyer's order. A paused product is answered with is_active false.
func (a *api) product(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	id, ok := ParseID(r.PathValue("id"))
	i, found := a.catalog.byID[id]
	if !ok || !found {
		a.fail(w, r, s, NotFound(CodeProductNotFound, "no such product"))
		return
	}
	sku := a.catalog.products[i].SKU
	level, paused, err := a.engine.StockOf(sku)
	if err != nil {
		a.fail(w, r, s, fmt.Errorf("read stock: %w", err))
		return
	}
	body, err := a.listing.one(i, state{levels: map[string]int{sku: level}, paused: map[string]bool{sku: paused}})
	a.okJSON(w, r, body, err)
}

// paused is the set of paused SKUs.
func (a *api) paused() (map[string]bool, error) {
	skus, err := a.engine.PausedProducts()
	if err != nil {
		return nil, fmt.Errorf("read paused products: %w", err)
	}
	paused := make(map[string]bool, len(skus))
	for _, sku := range skus {
		paused[sku] = true
	}
	return paused, nil
}

// okJSON answers 200 with a success answer already written, or 500
// internal_error when it could not be written.
func (a *api) okJSON(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	if err != nil {
		WriteError(w, ErrInternal)
		a.log.Error().Err(err).Str("path", r.URL.Path).Msg("answer not written")
		return
	}
	write(w, http.StatusOK, body)
}
