package dujiao

import (
	"cmp"
	"hash/crc32"
	"html"
	"slices"
	"strconv"

	"cardflow/config"
)

// AccountField is the key of a direct top-up's one form field: what the
// buyer types there becomes the order's account.
const AccountField = "account"

// catalog is what the shops may buy: every docked product, as one product
// with one SKU whose id is the product's id.
type catalog struct {
	products    []config.Product // docked, by id
	byID        map[uint64]int   // product (and SKU) id → index
	bySKU       map[string]int   // sku → index
	stockOnly   map[string]bool  // sku → own stock is its only source
	categories  []Category       // by name
	categoryIDs map[string]uint64
	maxQuantity int // the largest max_quantity, for decoding
}

func newCatalog(products []config.Product, suppliers []config.Supplier) *catalog {
	types := make(map[string]string, len(suppliers))
	for _, s := range suppliers {
		types[s.Name] = s.Type
	}
	c := &catalog{byID: map[uint64]int{}, bySKU: map[string]int{}, stockOnly: map[string]bool{}, categoryIDs: map[string]uint64{}, maxQuantity: 1}
	var names []string
	for _, p := range products {
		if !p.Docked() {
			continue
		}
		c.products = append(c.products, p)
		c.maxQuantity = max(c.maxQuantity, p.MaxQuantity)
		c.stockOnly[p.SKU] = len(p.Sources) > 0 && !slices.ContainsFunc(p.Sources, func(s config.Source) bool {
			return types[s.Supplier] != config.SupplierStock
		})
		if p.Category != "" && !slices.Contains(names, p.Category) {
			names = append(names, p.Category)
		}
	}
	slices.SortFunc(c.products, func(a, b config.Product) int { return cmp.Compare(a.ID, b.ID) })
	for i, p := range c.products {
		c.byID[uint64(p.ID)], c.bySKU[p.SKU] = i, i
	}
	// A category's id is a checksum of its name, so that it stays the same
	// whatever the order of the config and whichever categories come and
	// go; the rare clash moves to the next free number.
	slices.Sort(names)
	taken := map[uint64]bool{0: true}
	for _, name := range names {
		id := uint64(crc32.ChecksumIEEE([]byte(name)))
		for taken[id] {
			id++
		}
		taken[id] = true
		c.categoryIDs[name] = id
		c.categories = append(c.categories, Category{ID: id, Slug: "c" + strconv.FormatUint(id, 10), Name: Text{"zh-CN": name}})
	}
	return c
}

// find returns the product of a product or SKU id.
func (c *catalog) find(id uint64) (config.Product, bool) {
	i, ok := c.byID[id]
	if !ok {
		return config.Product{}, false
	}
	return c.products[i], true
}

// state is what a listing reads once per request: stock levels and paused
// SKUs.
type state struct {
	levels map[string]int
	paused map[string]bool
}

// shown is the stock and the active flag a shop sees of p: a product that
// a remote supplier can supply shows unlimited stock.
func (c *catalog) shown(p config.Product, st state) (stock int, active bool) {
	stock = Unlimited
	if c.stockOnly[p.SKU] {
		stock = st.levels[p.SKU]
	}
	return stock, !st.paused[p.SKU]
}

// product is p as a shop imports it.
func (c *catalog) product(p config.Product, st state) Product {
	stock, active := c.shown(p, st)
	out := Product{
		ID: uint64(p.ID), Slug: p.SKU, Title: Text{"zh-CN": cmp.Or(p.Name, p.SKU)},
		PriceAmount: p.Price, Currency: Currency, FulfillmentType: fulfillmentType(p.Kind),
		IsActive: active, CategoryID: c.categoryIDs[p.Category],
		SKUs: Array[SKU]{{ID: uint64(p.ID), SKUCode: p.SKU, PriceAmount: p.Price,
			StockStatus: StockStatus(stock), StockQuantity: stock, IsActive: active}},
	}
	if p.Description != "" {
		out.Description = Text{"zh-CN": p.Description}
		out.Content = Text{"zh-CN": "<p>" + html.EscapeString(p.Description) + "</p>"}
	}
	if p.Kind == config.KindDirect {
		label := cmp.Or(p.AccountLabel, config.DefaultAccountLabel)
		out.ManualFormSchema = &FormSchema{Fields: Array[FormField]{{Key: AccountField, Type: "text",
			Label: Text{"zh-CN": label}, Placeholder: Text{"zh-CN": label}, Required: true, MaxLen: maxAccountChars}}}
	}
	return out
}

// maxAccountChars bounds the account a shop's buyer may type: 64
// characters fit the 256 bytes an order keeps, whatever the script.
const maxAccountChars = 64

// fulfillmentType is auto for card keys, manual for a top-up (which asks
// its buyer for an account).
func fulfillmentType(kind string) string {
	if kind == config.KindDirect {
		return FulfillManual
	}
	return FulfillAuto
}
