package acgfaka

import (
	"cmp"
	"hash/crc32"
	"html"
	"slices"
	"strconv"

	"cardflow/config"
	"cardflow/internal/money"
)

// What a shop may buy: every docked card product, as one item whose id and
// code are the product's id. A direct top-up is not offered: its result
// cannot be promised within the sync window, and one answered late could
// not be taken back (the account is credited), so the claim period's
// refund would give it away.

// Uncategorised is the group of the items whose product has no category.
const Uncategorised = "其他"

type catalog struct {
	products  []config.Product // offered, by id
	byCode    map[string]int   // item code (the decimal id) → index
	bySKU     map[string]int   // sku → index
	stockOnly map[string]bool  // sku → own stock is its only source
	groups    []string         // names, sorted
	groupIDs  map[string]int
}

func newCatalog(products []config.Product, suppliers []config.Supplier) *catalog {
	types := make(map[string]string, len(suppliers))
	for _, s := range suppliers {
		types[s.Name] = s.Type
	}
	c := &catalog{byCode: map[string]int{}, bySKU: map[string]int{}, stockOnly: map[string]bool{}, groupIDs: map[string]int{}}
	for _, p := range products {
		if !p.Docked() || p.Kind == config.KindDirect {
			continue
		}
		c.products = append(c.products, p)
		c.stockOnly[p.SKU] = len(p.Sources) > 0 && !slices.ContainsFunc(p.Sources, func(s config.Source) bool {
			return types[s.Supplier] != config.SupplierStock
		})
		if g := group(p); !slices.Contains(c.groups, g) {
			c.groups = append(c.groups, g)
		}
	}
	slices.SortFunc(c.products, func(a, b config.Product) int { return cmp.Compare(a.ID, b.ID) })
	for i, p := range c.products {
		c.byCode[code(p)], c.bySKU[p.SKU] = i, i
	}
	// A group's id is a checksum of its name, so that it stays the same
	// whatever the config's order and whichever groups come and go; the
	// rare clash moves to the next free number.
	slices.Sort(c.groups)
	taken := map[int]bool{0: true}
	for _, name := range c.groups {
		id := int(crc32.ChecksumIEEE([]byte(name)))
		for taken[id] {
			id++
		}
		taken[id] = true
		c.groupIDs[name] = id
	}
	return c
}

func group(p config.Product) string { return cmp.Or(p.Category, Uncategorised) }

// code is a product's item code: its id in decimal.
func code(p config.Product) string { return strconv.FormatUint(uint64(p.ID), 10) }

// find returns the product of an item code.
func (c *catalog) find(code string) (config.Product, bool) {
	i, ok := c.byCode[code]
	if !ok {
		return config.Product{}, false
	}
	return c.products[i], true
}

// levels is what a listing reads once per request: stock levels and paused
// SKUs.
type levels struct {
	stock  map[string]int
	paused map[string]bool
}

// stock is what a shop may sell of p: nothing while it is paused, its own
// stock when that is its only source, Unlimited when a remote supplier can
// supply.
func (c *catalog) stock(p config.Product, lv levels) int {
	switch {
	case lv.paused[p.SKU]:
		return 0
	case c.stockOnly[p.SKU]:
		return lv.stock[p.SKU]
	}
	return Unlimited
}

// item is p as a shop imports it, at the wholesale price in all three
// prices: the shop marks up price and user_price, and the mcy plugin reads
// factory_price as its cost. maximum is the product's own limit, which the
// shop then applies to its buyers.
func (c *catalog) item(p config.Product, lv levels) Item {
	it := Item{
		ID: int(p.ID), Code: code(p), Name: cmp.Or(p.Name, p.SKU),
		Price: Yuan(p.Price), UserPrice: Yuan(p.Price), FactoryPrice: Yuan(p.Price),
		Stock: c.stock(p, lv), Maximum: p.MaxQuantity,
	}
	if p.Description != "" {
		it.Description = "<p>" + html.EscapeString(p.Description) + "</p>"
	}
	return it
}

// tree is the items of products as groups, in group name order.
func (c *catalog) tree(products []config.Product, lv levels) []Group {
	out := []Group{}
	at := map[string]int{}
	for _, name := range c.groups {
		for _, p := range products {
			if group(p) != name {
				continue
			}
			i, ok := at[name]
			if !ok {
				i, at[name] = len(out), len(out)
				out = append(out, Group{ID: c.groupIDs[name], Name: name, Children: []Item{}})
			}
			out[i].Children = append(out[i].Children, c.item(p, lv))
		}
	}
	return out
}

// total is what num units of p cost a shop.
func total(p config.Product, num int) money.Amount { return p.Price * money.Amount(num) }
