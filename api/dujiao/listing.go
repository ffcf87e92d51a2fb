package dujiao

import (
	"encoding/json"
	"strconv"
	"sync/atomic"

	"cardflow/api/docking"
)

// listing writes the JSON of the catalogue's GETs (a product page, one
// product) while orders flow. Rendering a product with encoding/json costs
// about 7 µs (the nested arrays are each marshalled and then compacted
// again by the outer encoder), most of a 50-product page's time; yet a
// product's JSON changes only with the stock it shows and its active flag.
// So each product's JSON is kept as last written and written again only
// when one of those two changed. Between the two reads of one request
// nothing is assumed: a cached rendering is used only for the exact stock
// and flag this request read.
type listing struct {
	catalog *catalog
	last    []atomic.Pointer[rendered] // by catalogue index
}

// rendered is one product's JSON and the stock and flag it shows.
type rendered struct {
	stock  int
	active bool
	json   []byte
}

func newListing(c *catalog) *listing {
	return &listing{catalog: c, last: make([]atomic.Pointer[rendered], len(c.Products))}
}

// product returns the JSON of the catalogue's i-th product as st shows it.
func (l *listing) product(i int, lv docking.Levels) ([]byte, error) {
	p := l.catalog.Products[i]
	stock, active := l.catalog.shown(p, lv)
	if r := l.last[i].Load(); r != nil && r.stock == stock && r.active == active {
		return r.json, nil
	}
	b, err := json.Marshal(l.catalog.product(p, lv))
	if err != nil {
		return nil, err
	}
	l.last[i].Store(&rendered{stock: stock, active: active, json: b})
	return b, nil
}

// page writes {"ok":true,"items":[…],"total":…,"page":…,"page_size":…,
// "includes_inactive":…}, byte for byte what MarshalOK writes for the
// ProductsPage of the same products (a test compares the two).
func (l *listing) page(items []int, lv docking.Levels, total int, q PageQuery) ([]byte, error) {
	b := make([]byte, 0, 128+len(items)*1024)
	b = append(b, `{"ok":true,"items":[`...)
	for n, i := range items {
		js, err := l.product(i, lv)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, js...)
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, int64(q.Page), 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, int64(q.PageSize), 10)
	b = append(b, `,"includes_inactive":`...)
	b = strconv.AppendBool(b, q.IncludeInactive)
	return append(b, '}'), nil
}

// one writes {"ok":true,"product":…}, as MarshalOK writes a ProductAnswer.
func (l *listing) one(i int, lv docking.Levels) ([]byte, error) {
	js, err := l.product(i, lv)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(js)+24)
	b = append(b, `{"ok":true,"product":`...)
	b = append(b, js...)
	return append(b, '}'), nil
}
