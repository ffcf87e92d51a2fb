package dujiao

import (
	"cmp"
	"html"
	"maps"
	"slices"
	"strconv"

	"cardflow/api/docking"
	"cardflow/config"
)

// AccountField is the key of a direct top-up's one form field: what the
// buyer types there becomes the order's account.
const AccountField = "account"

// catalog is what the shops may buy: every docked product, as one product
// with one SKU whose id is the product's id.
type catalog struct {
	*docking.Catalogue
	categories  []Category // by name
	categoryIDs map[string]uint64
	maxQuantity int // the largest max_quantity, for decoding
	// since is every product's created_at and updated_at: the start of the
	// catalogue as this process read it from config (a shop shows the
	// dates, and a null one as year 1).
	since Time
}

func newCatalog(products []config.Product, suppliers []config.Supplier) *catalog {
	c := &catalog{Catalogue: docking.NewCatalogue(products, suppliers, nil), maxQuantity: 1}
	var names []string
	for _, p := range c.Products {
		c.maxQuantity = max(c.maxQuantity, p.MaxQuantity)
		if p.Category != "" {
			names = append(names, p.Category)
		}
	}
	c.categoryIDs = docking.IDs(names)
	for _, name := range slices.Sorted(maps.Keys(c.categoryIDs)) {
		id := c.categoryIDs[name]
		c.categories = append(c.categories, Category{ID: id, Slug: "c" + strconv.FormatUint(id, 10), Name: Text{"zh-CN": name}})
	}
	return c
}

// shown is the stock and the active flag a shop sees of p: a product that
// a remote supplier can supply shows unlimited stock.
func (c *catalog) shown(p config.Product, lv docking.Levels) (stock int, active bool) {
	stock = Unlimited
	if c.Counted(p.SKU) {
		stock = lv.Stock[p.SKU]
	}
	return stock, !lv.Paused[p.SKU]
}

// product is p as a shop imports it.
func (c *catalog) product(p config.Product, lv docking.Levels) Product {
	stock, active := c.shown(p, lv)
	out := Product{
		ID: uint64(p.ID), Slug: p.SKU, Title: Text{"zh-CN": cmp.Or(p.Name, p.SKU)},
		PriceAmount: p.Price, Currency: Currency, FulfillmentType: fulfillmentType(p.Kind),
		IsActive: active, CategoryID: c.categoryIDs[p.Category], CreatedAt: c.since, UpdatedAt: c.since,
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
