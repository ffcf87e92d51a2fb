package acgfaka

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Group is a node of the items tree: a category and its items.
type Group struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Children []Item `json:"children"`
}

// Item is an item as a shop imports and syncs it. Every field is always
// sent: acg-faka's 同步 copies each into a NOT NULL column, and one missing
// fails the sync, and with 远端信息同步 on, the shop's product page. The zero
// value of each field not set here is what cardflow means: no seckill, no
// draft, no password, no limits.
type Item struct {
	ID           int     `json:"id"`   // 1…4294967295
	Code         string  `json:"code"` // 1–64 characters, no whitespace, unique
	Name         string  `json:"name"` // 1–255 characters
	Description  string  `json:"description"`
	Cover        string  `json:"cover"` // a path such as /img/x.png, resolved against cardflow's URL
	Price        Yuan    `json:"price"`
	UserPrice    Yuan    `json:"user_price"`
	FactoryPrice Yuan    `json:"factory_price"` // the caller's cost
	Stock        int     `json:"stock"`
	Widget       Widgets `json:"widget"`
	Config       string  `json:"config"` // acg-faka INI; "" without races

	DeliveryWay      int     `json:"delivery_way"` // 0: automatic
	ContactType      int     `json:"contact_type"`
	PasswordStatus   int     `json:"password_status"`
	Sort             int     `json:"sort"`
	SeckillStatus    int     `json:"seckill_status"`
	SeckillStartTime *string `json:"seckill_start_time"`
	SeckillEndTime   *string `json:"seckill_end_time"`
	DraftStatus      int     `json:"draft_status"`
	DraftPremium     int     `json:"draft_premium"`
	InventoryHidden  int     `json:"inventory_hidden"`
	OnlyUser         int     `json:"only_user"`
	PurchaseCount    int     `json:"purchase_count"`
	Minimum          int     `json:"minimum"` // 0: no limit
	Maximum          int     `json:"maximum"` // 0: no limit
}

// Widget is an input the shop asks its buyer for; the value comes back in
// the trade as a field named Name.
type Widget struct {
	Label       string `json:"cn"`
	Name        string `json:"name"` // a letter, then up to 31 letters, digits or '_'
	Placeholder string `json:"placeholder"`
	Type        string `json:"type"`  // text, password, number, select, checkbox, radio, textarea
	Regex       string `json:"regex"` // PCRE the shop checks the input against; "" for none
	Error       string `json:"error"` // shown when Regex fails
	Dict        string `json:"dict"`  // select options: "显示=值,显示2=值2"
}

// Widgets are sent as a JSON string holding the array, "[]" when none.
type Widgets []Widget

// MarshalJSON writes the widgets as a string.
func (ws Widgets) MarshalJSON() ([]byte, error) {
	if ws == nil {
		ws = Widgets{}
	}
	inner, err := json.Marshal([]Widget(ws))
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(inner))
}

// widgetName is what acg-faka accepts as a widget's name.
var widgetName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// Check reports the first rule of acg-faka's importer the item breaks; a
// shop skips such an item without a word, so cardflow checks before it
// lists one. The error names the item and the rule, never a key.
func (it Item) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("acg-faka item %d: "+format, append([]any{it.ID}, args...)...)
	}
	switch {
	case it.ID < 1 || it.ID > 4294967295:
		return bad("id must be 1 to 4294967295")
	case it.Code == "" || len(it.Code) > 64 || strings.ContainsFunc(it.Code, isSpace):
		return bad("code %q must be 1 to 64 characters without whitespace", it.Code)
	case it.Name == "" || utf8.RuneCountInString(it.Name) > 255:
		return bad("name must be 1 to 255 characters")
	case len(it.Cover) > 2048:
		return bad("cover must be at most 2048 bytes")
	case len(it.Description) > 1<<20:
		return bad("description must be at most 1 MiB")
	case it.Price < 0 || it.UserPrice < 0 || it.FactoryPrice < 0:
		return bad("prices must not be negative")
	case it.Stock < 0 || it.Minimum < 0 || it.Maximum < 0:
		return bad("stock, minimum and maximum must not be negative")
	case len(it.Widget) > 32:
		return bad("at most 32 widgets, not %d", len(it.Widget))
	}
	seen := map[string]bool{}
	for _, w := range it.Widget {
		if !widgetName.MatchString(w.Name) || seen[w.Name] || tradeFields[w.Name] {
			return bad("widget name %q must be a letter and up to 31 letters, digits or '_', unique, and no trade field", w.Name)
		}
		seen[w.Name] = true
	}
	return nil
}

func isSpace(r rune) bool { return r <= ' ' || r == 0x7f || r == 0x3000 }
