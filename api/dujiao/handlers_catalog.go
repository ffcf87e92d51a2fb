package dujiao

import (
	"fmt"
	"hash/crc32"
	"net/http"

	"cardflow/api/docking"
)

// SiteName is what a shop shows its admin for cardflow after a ping.
const SiteName = "cardflow"

// ping is POST /ping, the shop's connection test: it shows the live
// balance. user_id is a checksum of the shop's id, stable across restarts
// and config changes; cardflow has no users behind it.
func (a *api) ping(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	balance, err := docking.Balance(a.engine, s.ID)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, Ping{SiteName: SiteName, ProtocolVersion: ProtocolVersion, UserID: uint64(max(crc32.ChecksumIEEE([]byte(s.ID)), 1)),
		Balance: balance, Currency: Currency})
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
	paused, err := docking.ReadPaused(a.engine)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	var items []int // catalogue indexes
	var skus []string
	total, from := 0, (q.Page-1)*q.PageSize
	for i, p := range a.catalog.Products {
		if !q.IncludeInactive && paused[p.SKU] {
			continue
		}
		if total >= from && len(items) < q.PageSize {
			items, skus = append(items, i), append(skus, p.SKU)
		}
		total++
	}
	stock, err := a.engine.StockLevelsOf(skus)
	if err != nil {
		a.fail(w, r, s, fmt.Errorf("read stock levels: %w", err))
		return
	}
	body, err := a.listing.page(items, docking.Levels{Stock: stock, Paused: paused}, total, q)
	a.okJSON(w, r, body, err)
}

// product is GET /products/{id}, also a shop's stock check before it takes
// its buyer's order. A paused product is answered with is_active false.
func (a *api) product(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	id, ok := ParseID(r.PathValue("id"))
	i, found := a.catalog.Index(id)
	if !ok || !found {
		a.fail(w, r, s, NotFound(CodeProductNotFound, "no such product"))
		return
	}
	sku := a.catalog.Products[i].SKU
	level, paused, err := a.engine.StockOf(sku)
	if err != nil {
		a.fail(w, r, s, fmt.Errorf("read stock: %w", err))
		return
	}
	body, err := a.listing.one(i, docking.Levels{Stock: map[string]int{sku: level}, Paused: map[string]bool{sku: paused}})
	a.okJSON(w, r, body, err)
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
