package djshop

import "time"

// The types below are what a Dujiao-Next shop decodes cardflow's answers
// into, written from the shop's side and not from package dujiao's: a field
// of the wrong JSON type fails the decode, as it fails the shop's.
// Localised texts and spec values are maps, which refuse an array; times
// are time.Time, which refuses "".

// Ping is the answer to POST /ping.
type Ping struct {
	OK              bool           `json:"ok"`
	SiteName        string         `json:"site_name"`
	ProtocolVersion string         `json:"protocol_version"`
	UserID          uint           `json:"user_id"`
	Balance         string         `json:"balance"`
	Currency        string         `json:"currency"`
	MemberLevel     map[string]any `json:"member_level"`
}

// Category is an upstream category.
type Category struct {
	ID        uint           `json:"id"`
	ParentID  uint           `json:"parent_id"`
	Slug      string         `json:"slug"`
	Name      map[string]any `json:"name"`
	Icon      string         `json:"icon"`
	SortOrder int            `json:"sort_order"`
}

// Product is an upstream product as the shop imports it.
type Product struct {
	ID               uint           `json:"id"`
	SeoMeta          map[string]any `json:"seo_meta"`
	Title            map[string]any `json:"title"`
	Description      map[string]any `json:"description"`
	Content          map[string]any `json:"content"`
	Images           []string       `json:"images"`
	Tags             []string       `json:"tags"`
	PriceAmount      string         `json:"price_amount"`
	OriginalPrice    string         `json:"original_price,omitempty"`
	MemberPrice      string         `json:"member_price,omitempty"`
	Currency         string         `json:"currency"`
	FulfillmentType  string         `json:"fulfillment_type"`
	ManualFormSchema map[string]any `json:"manual_form_schema"`
	IsActive         bool           `json:"is_active"`
	CategoryID       uint           `json:"category_id"`
	SKUs             []SKU          `json:"skus"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

// SKU is what the shop orders.
type SKU struct {
	ID            uint           `json:"id"`
	SKUCode       string         `json:"sku_code"`
	SpecValues    map[string]any `json:"spec_values"`
	PriceAmount   string         `json:"price_amount"`
	OriginalPrice string         `json:"original_price,omitempty"`
	MemberPrice   string         `json:"member_price,omitempty"`
	StockStatus   string         `json:"stock_status"`
	StockQuantity int            `json:"stock_quantity"`
	IsActive      bool           `json:"is_active"`
}

// orderRequest is the order body in the shop's field order: the bytes
// are what cardflow hashes, so the order matters.
type orderRequest struct {
	SKUID             uint              `json:"sku_id"`
	Quantity          int               `json:"quantity"`
	ManualFormData    map[string]string `json:"manual_form_data,omitempty"`
	DownstreamOrderNo string            `json:"downstream_order_no"`
	TraceID           string            `json:"trace_id"`
	CallbackURL       string            `json:"callback_url"`
}

// Accepted is the answer to POST /orders.
type Accepted struct {
	OK           bool   `json:"ok"`
	OrderID      uint   `json:"order_id,omitempty"`
	OrderNo      string `json:"order_no,omitempty"`
	Status       string `json:"status,omitempty"`
	Amount       string `json:"amount,omitempty"`
	Currency     string `json:"currency,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// Fulfillment is a delivery: Payload holds the keys, one per line.
type Fulfillment struct {
	Type         string         `json:"type"`
	Status       string         `json:"status"`
	Payload      string         `json:"payload"`
	DeliveryData map[string]any `json:"delivery_data"`
	DeliveredAt  *time.Time     `json:"delivered_at,omitempty"`
}

// Order is the answer to GET /orders/{id}.
type Order struct {
	OrderID        uint             `json:"order_id"`
	OrderNo        string           `json:"order_no"`
	Status         string           `json:"status"`
	Amount         string           `json:"amount"`
	RefundedAmount string           `json:"refunded_amount,omitempty"`
	Currency       string           `json:"currency"`
	Items          []OrderItem      `json:"items"`
	Fulfillment    *Fulfillment     `json:"fulfillment,omitempty"`
	RefundRecords  []map[string]any `json:"refund_records,omitempty"`
}

// OrderItem is a line of an order.
type OrderItem struct {
	ProductID       uint           `json:"product_id"`
	SKUID           uint           `json:"sku_id"`
	Title           map[string]any `json:"title"`
	Quantity        int            `json:"quantity"`
	UnitPrice       string         `json:"unit_price"`
	TotalPrice      string         `json:"total_price"`
	FulfillmentType string         `json:"fulfillment_type"`
}

// Callback is the body of a callback as the shop decodes it.
type Callback struct {
	Event             string       `json:"event"`
	OrderID           uint         `json:"order_id"`
	OrderNo           string       `json:"order_no"`
	DownstreamOrderNo string       `json:"downstream_order_no"`
	Status            string       `json:"status"`
	Fulfillment       *Fulfillment `json:"fulfillment"`
	Timestamp         int64        `json:"timestamp"`
}
