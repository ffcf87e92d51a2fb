package dujiao

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cardflow/internal/money"
)

// A shop decodes every answer into typed structs, and one field of the wrong
// JSON type drops the whole answer: ids, counts and the callback's timestamp
// are numbers; amounts, order numbers and codes are strings; a localised
// text, spec_values and delivery_data are objects or null, never [];
// delivered_at is RFC 3339 or null, never "". The types below write only
// those forms.

// Fixed values of the protocol as cardflow speaks it.
const (
	ProtocolVersion = "1.0"
	Currency        = "CNY"
)

// Text is a text per locale ("zh-CN", "zh-TW", "en-US"); nil writes null.
type Text map[string]string

// Array is a JSON array that writes [] when empty, never null.
type Array[T any] []T

// MarshalJSON writes the elements, or [] for none.
func (a Array[T]) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(a))
}

// Time is an instant written as RFC 3339 in UTC, or null when zero.
type Time struct{ time.Time }

// At wraps t; the zero time writes null.
func At(t time.Time) Time { return Time{t} }

// MarshalJSON writes "2026-03-01T12:01:00Z" or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(time.RFC3339) + `"`), nil
}

// Ping is the answer to POST /ping, the shop's connection test. A shop
// shows site_name and balance to its admin.
type Ping struct {
	SiteName        string       `json:"site_name"`
	ProtocolVersion string       `json:"protocol_version"`
	UserID          uint64       `json:"user_id"`
	Balance         money.Amount `json:"balance"`
	Currency        string       `json:"currency"`
	MemberLevel     *MemberLevel `json:"member_level"`
}

// MemberLevel is a shop's member level on the upstream; cardflow has none
// and sends null.
type MemberLevel struct {
	ID   uint64 `json:"id"`
	Name Text   `json:"name"`
	Slug string `json:"slug"`
	Icon string `json:"icon"`
}

// Category is one entry of GET /categories (at most two levels deep).
type Category struct {
	ID        uint64 `json:"id"`
	ParentID  uint64 `json:"parent_id"`
	Slug      string `json:"slug"`
	Name      Text   `json:"name"`
	Icon      string `json:"icon"`
	SortOrder int    `json:"sort_order"`
}

// Categories is the answer to GET /categories.
type Categories struct {
	Categories Array[Category] `json:"categories"`
}

// Fulfilment types of a product and of a delivery. A shop treats anything
// but auto as manual, and waits for a callback or a poll either way.
const (
	FulfillAuto   = "auto"
	FulfillManual = "manual"
)

// Product is a product as a shop imports and syncs it. Its SKU ids are what
// the shop orders.
type Product struct {
	ID               uint64        `json:"id"`
	Slug             string        `json:"slug"`
	Title            Text          `json:"title"`
	Description      Text          `json:"description"`
	Content          Text          `json:"content"`
	SEOMeta          Text          `json:"seo_meta"`
	Images           Array[string] `json:"images"`
	Tags             Array[string] `json:"tags"`
	PriceAmount      money.Amount  `json:"price_amount"`
	OriginalPrice    money.Amount  `json:"original_price,omitempty"`
	MemberPrice      money.Amount  `json:"member_price,omitempty"`
	Currency         string        `json:"currency"`
	FulfillmentType  string        `json:"fulfillment_type"`
	ManualFormSchema *FormSchema   `json:"manual_form_schema"`
	IsActive         bool          `json:"is_active"`
	CategoryID       uint64        `json:"category_id"`
	SKUs             Array[SKU]    `json:"skus"`
	CreatedAt        Time          `json:"created_at"`
	UpdatedAt        Time          `json:"updated_at"`
}

// SKU is what a shop orders. StockQuantity -1 means unlimited.
type SKU struct {
	ID            uint64       `json:"id"`
	SKUCode       string       `json:"sku_code"`
	SpecValues    Text         `json:"spec_values"`
	PriceAmount   money.Amount `json:"price_amount"`
	OriginalPrice money.Amount `json:"original_price,omitempty"`
	MemberPrice   money.Amount `json:"member_price,omitempty"`
	StockStatus   string       `json:"stock_status"`
	StockQuantity int          `json:"stock_quantity"`
	IsActive      bool         `json:"is_active"`
}

// Stock statuses of a SKU; StockStatus picks one from a quantity.
const (
	StockUnlimited  = "unlimited"
	StockIn         = "in_stock"
	StockLow        = "low_stock"
	StockOut        = "out_of_stock"
	Unlimited       = -1
	lowStockCeiling = 20
)

// StockStatus is the status a shop shows for a quantity: Unlimited (or any
// negative) is unlimited, 0 out of stock, 1-20 low, more in stock.
func StockStatus(quantity int) string {
	switch {
	case quantity < 0:
		return StockUnlimited
	case quantity == 0:
		return StockOut
	case quantity <= lowStockCeiling:
		return StockLow
	}
	return StockIn
}

// FormSchema declares what a buyer fills in for a manual (top-up) product;
// the shop validates the input against it and forwards it with the order as
// manual_form_data.
type FormSchema struct {
	Fields Array[FormField] `json:"fields"`
}

// FormField is one input of a FormSchema. Key matches ^[a-z0-9_]{1,64}$;
// Type is text, textarea, phone, email, number, select, radio or checkbox.
type FormField struct {
	Key         string        `json:"key"`
	Type        string        `json:"type"`
	Label       Text          `json:"label"`
	Placeholder Text          `json:"placeholder,omitempty"`
	Required    bool          `json:"required"`
	Regex       string        `json:"regex,omitempty"`
	Min         *float64      `json:"min,omitempty"`
	Max         *float64      `json:"max,omitempty"`
	MaxLen      int           `json:"max_len,omitempty"`
	Options     Array[string] `json:"options,omitempty"`
}

// ProductsPage is the answer to GET /products. Total must count every
// product the query selects: a shop pages until it has that many.
// IncludesInactive echoes include_inactive=true; with it a shop takes a
// product missing from a complete listing as deleted.
type ProductsPage struct {
	Items            Array[Product] `json:"items"`
	Total            int            `json:"total"`
	Page             int            `json:"page"`
	PageSize         int            `json:"page_size"`
	IncludesInactive bool           `json:"includes_inactive"`
}

// ProductAnswer is the answer to GET /products/{id}.
type ProductAnswer struct {
	Product Product `json:"product"`
}

// Paging bounds of GET /products. Shops ask for 50 by default and up to 200.
const (
	DefaultPageSize = 20
	MaxPageSize     = 200
)

// PageQuery is what GET /products asks for.
type PageQuery struct {
	Page            int
	PageSize        int
	IncludeInactive bool
	// UpdatedAfter is zero when absent or unreadable: a server that cannot
	// read it answers with everything, never with "nothing changed".
	UpdatedAfter time.Time
}

// ParsePageQuery reads page, page_size, include_inactive and updated_after,
// clamping rather than refusing, as a genuine upstream does: page from 1,
// page_size 1..MaxPageSize (DefaultPageSize when absent or unreadable).
func ParsePageQuery(q url.Values) PageQuery {
	p := PageQuery{Page: 1, PageSize: DefaultPageSize}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		p.Page = n
	}
	if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		p.PageSize = min(n, MaxPageSize)
	}
	p.IncludeInactive, _ = strconv.ParseBool(q.Get("include_inactive"))
	// A shop writes the offset unescaped, so "+08:00" arrives as " 08:00".
	if s := strings.ReplaceAll(q.Get("updated_after"), " ", "+"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			p.UpdatedAfter = t
		}
	}
	return p
}

// ParseID reads a product or order id from a path segment: a decimal
// without sign or leading zero, above zero.
func ParseID(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, false
	}
	return n, true
}
