package dujiao

import (
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
// counts it. Without include_inactive a paused product is left out.
func (a *api) products(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	q := ParsePageQuery(r.URL.Query())
	lv, err := docking.ReadLevels(a.engine)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	page := ProductsPage{Items: Array[Product]{}, Page: q.Page, PageSize: q.PageSize, IncludesInactive: q.IncludeInactive}
	from := (q.Page - 1) * q.PageSize
	for _, p := range a.catalog.Products {
		if !q.IncludeInactive && lv.Paused[p.SKU] {
			continue
		}
		if page.Total >= from && len(page.Items) < q.PageSize {
			page.Items = append(page.Items, a.catalog.product(p, lv))
		}
		page.Total++
	}
	a.ok(w, r, page)
}

// product is GET /products/{id}, also a shop's stock check before it takes
// its buyer's order. A paused product is answered with is_active false.
func (a *api) product(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	id, ok := ParseID(r.PathValue("id"))
	p, found := a.catalog.ByID(id)
	if !ok || !found {
		a.fail(w, r, s, NotFound(CodeProductNotFound, "no such product"))
		return
	}
	lv, err := docking.ReadLevels(a.engine)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, ProductAnswer{Product: a.catalog.product(p, lv)})
}
