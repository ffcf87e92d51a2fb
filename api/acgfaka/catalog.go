package acgfaka

import (
	"cmp"
	"html"
	"maps"
	"slices"
	"strconv"

	"cardflow/api/docking"
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
	*docking.Catalogue
	groups   []string // names, sorted
	groupIDs map[string]uint64
}

func newCatalog(products []config.Product, suppliers []config.Supplier) *catalog {
	c := &catalog{Catalogue: docking.NewCatalogue(products, suppliers, func(p config.Product) bool { return p.Kind != config.KindDirect })}
	var names []string
	for _, p := range c.Products {
		names = append(names, group(p))
	}
	c.groupIDs = docking.IDs(names)
	c.groups = slices.Sorted(maps.Keys(c.groupIDs))
	return c
}

func group(p config.Product) string { return cmp.Or(p.Category, Uncategorised) }

// code is a product's item code: its id in decimal.
func code(p config.Product) string { return strconv.FormatUint(uint64(p.ID), 10) }

// find returns the product of an item code: its id in decimal, as code
// writes it.
func (c *catalog) find(code string) (config.Product, bool) {
	id, err := strconv.ParseUint(code, 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != code {
		return config.Product{}, false
	}
	return c.ByID(id)
}

// stock is what a shop may sell of p: nothing while it is paused, its own
// stock when that is its only source, Unlimited when a remote supplier can
// supply.
func (c *catalog) stock(p config.Product, lv docking.Levels) int {
	switch {
	case lv.Paused[p.SKU]:
		return 0
	case c.Counted(p.SKU):
		return lv.Stock[p.SKU]
	}
	return Unlimited
}

// item is p as a shop imports it, at the wholesale price in all three
// prices: the shop marks up price and user_price, and the mcy plugin reads
// factory_price as its cost. maximum is the product's own limit, which the
// shop then applies to its buyers.
func (c *catalog) item(p config.Product, lv docking.Levels) Item {
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
func (c *catalog) tree(products []config.Product, lv docking.Levels) []Group {
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
				out = append(out, Group{ID: int(c.groupIDs[name]), Name: name, Children: []Item{}})
			}
			out[i].Children = append(out[i].Children, c.item(p, lv))
		}
	}
	return out
}

// total is what num units of p cost a shop.
func total(p config.Product, num int) money.Amount { return p.Price * money.Amount(num) }
