// Package docking is what the docking protocols (api/dujiao, api/acgfaka)
// share beneath their wire formats: the catalogue of docked products built
// from config, the stock levels and balance a shop is shown, the lines a
// delivery's keys are written in, and the intake of a shop's order number.
// Each protocol writes these in its own words.
package docking

import (
	"cmp"
	"hash/crc32"
	"slices"

	"cardflow/config"
)

// Catalogue is what docking shops may buy: the docked products a protocol
// offers, by id.
type Catalogue struct {
	Products  []config.Product // by id
	byID      map[uint64]int   // product id → index
	bySKU     map[string]int   // sku → index
	stockOnly map[string]bool  // sku → own stock is its only source
}

// NewCatalogue is the docked products that offer accepts (every one when
// offer is nil); suppliers tell own stock from remote suppliers.
func NewCatalogue(products []config.Product, suppliers []config.Supplier, offer func(config.Product) bool) *Catalogue {
	types := make(map[string]string, len(suppliers))
	for _, s := range suppliers {
		types[s.Name] = s.Type
	}
	c := &Catalogue{byID: map[uint64]int{}, bySKU: map[string]int{}, stockOnly: map[string]bool{}}
	for _, p := range products {
		if !p.Docked() || offer != nil && !offer(p) {
			continue
		}
		c.Products = append(c.Products, p)
		c.stockOnly[p.SKU] = len(p.Sources) > 0 && !slices.ContainsFunc(p.Sources, func(s config.Source) bool {
			return types[s.Supplier] != config.SupplierStock
		})
	}
	slices.SortFunc(c.Products, func(a, b config.Product) int { return cmp.Compare(a.ID, b.ID) })
	for i, p := range c.Products {
		c.byID[uint64(p.ID)], c.bySKU[p.SKU] = i, i
	}
	return c
}

// ByID returns the product of an id.
func (c *Catalogue) ByID(id uint64) (config.Product, bool) {
	return at(c, c.byID, id)
}

// Index is the place of an id's product in Products.
func (c *Catalogue) Index(id uint64) (int, bool) {
	i, ok := c.byID[id]
	return i, ok
}

// BySKU returns the product of a sku.
func (c *Catalogue) BySKU(sku string) (config.Product, bool) {
	return at(c, c.bySKU, sku)
}

func at[K comparable](c *Catalogue, index map[K]int, key K) (config.Product, bool) {
	i, ok := index[key]
	if !ok {
		return config.Product{}, false
	}
	return c.Products[i], true
}

// Counted says whether what a shop may buy of a product is its own stock,
// which is then its only source; otherwise a remote supplier can supply
// without a count.
func (c *Catalogue) Counted(sku string) bool { return c.stockOnly[sku] }

// IDs gives each name (a category) an id above 0: a checksum of the name,
// so that it stays the same whatever the order of the config and whichever
// names come and go. The rare clash moves to the next free number, in name
// order.
func IDs(names []string) map[string]uint64 {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	ids := make(map[string]uint64, len(sorted))
	taken := map[uint64]bool{0: true}
	for _, name := range slices.Compact(sorted) {
		id := uint64(crc32.ChecksumIEEE([]byte(name)))
		for taken[id] {
			id++
		}
		taken[id] = true
		ids[name] = id
	}
	return ids
}
