package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// products checks [[products]] against the declared suppliers (name -> type).
func (v *validator) products(suppliers map[string]string) {
	c := v.c
	if len(c.Products) == 0 {
		v.add("products", "at least one [[products]] is required; add one with sku, name and a [[products.sources]] (see config.toml.example)")
	}
	declared := make([]string, 0, len(suppliers))
	for name := range suppliers {
		declared = append(declared, name)
	}
	sort.Strings(declared)

	skus, ids := map[string]int{}, map[uint32]int{}
	for i, p := range c.Products {
		key := fmt.Sprintf("products[%d]", i)
		switch j, dup := skus[p.SKU]; {
		case p.SKU == "":
			v.add(key+".sku", `must be set; write it like sku = "qb-100"`)
		case !skuPattern.MatchString(p.SKU):
			v.add(key+".sku", "%q must be 1 to 64 letters, digits, '.', '_' or '-'", p.SKU)
		case dup:
			v.add(key+".sku", "%q is already the sku of products[%d]; give every product its own sku", p.SKU, j)
		default:
			skus[p.SKU] = i
		}
		if p.Kind != KindCard && p.Kind != KindDirect {
			v.add(key+".kind", "%q is not allowed; use %q or %q", p.Kind, KindCard, KindDirect)
		}
		if p.MaxQuantity < 1 || p.MaxQuantity > 10000 {
			v.add(key+".max_quantity", "%d is out of range; use 1 to 10000 (default 10)", p.MaxQuantity)
		}
		if p.BatchSize < 1 {
			v.add(key+".batch_size", "%d is out of range; use 1 or more (default 5)", p.BatchSize)
		}
		if p.LowStock < 0 {
			v.add(key+".low_stock", "%d is negative; use 0 (no alert) or more (default 20)", p.LowStock)
		}
		v.sources(key, p, suppliers, declared)
		v.docked(i, p, ids)
	}
}

func (v *validator) sources(product string, p Product, suppliers map[string]string, declared []string) {
	sources := p.Sources
	if len(sources) == 0 {
		v.add(product+".sources", `at least one [[products.sources]] is required; add one below the product with supplier = "own"`)
	}
	names := "none: add a [[suppliers]]"
	if len(declared) > 0 {
		names = strings.Join(declared, ", ")
	}
	seen := map[string]int{}
	for j, s := range sources {
		key := fmt.Sprintf("%s.sources[%d]", product, j)
		typ, known := suppliers[s.Supplier]
		switch k, dup := seen[s.Supplier]; {
		case s.Supplier == "":
			v.add(key+".supplier", "must be set; declared suppliers: %s", names)
		case !known:
			v.add(key+".supplier", "%q is not a declared supplier; use one of: %s (or add a [[suppliers]] with that name)", s.Supplier, names)
		case dup:
			v.add(key+".supplier", "%q is already %s.sources[%d]; list each supplier once per product", s.Supplier, product, k)
		default:
			seen[s.Supplier] = j
		}
		if s.Units < 1 {
			v.add(key+".units", "%d is out of range; use 1 or more supplier units per product unit (default 1)", s.Units)
		}
		if s.MaxCost < 0 {
			v.add(key+".max_cost", `must not be negative; write it like max_cost = "98.50", or "0" for no limit`)
		}
		if known && typ == SupplierFulu && s.Item == "" {
			v.add(key+".item", `must be set: the Fulu product_id to buy, like item = "10000587"`)
		}
		if known && typ == SupplierStock && p.Kind == KindDirect {
			v.add(key+".supplier", "%q is own stock, which holds card keys; a direct top-up product needs a fulu or sim source", s.Supplier)
		}
		if known && typ == SupplierStock {
			// Own stock is imported per product, so there is no item id and
			// no denomination to match.
			if s.Item != "" {
				v.add(key+".item", "must be empty for the stock supplier %q (own stock holds whole product units); remove it", s.Supplier)
			}
			if s.Units > 1 {
				v.add(key+".units", "must be 1 for the stock supplier %q (own stock holds whole product units)", s.Supplier)
			}
		}
	}
}

func (v *validator) processing() {
	p := v.c.Processing
	if p.Workers < 1 || p.Workers > 1024 {
		v.add("processing.workers", "%d is out of range; use 1 to 1024 (default 16)", p.Workers)
	}
	if p.StockWait <= 0 {
		v.add("processing.stock_wait", `must be positive; write it like stock_wait = "30m"`)
	}
	switch p.Routing {
	case RoutingPriority, RoutingAdaptive:
	default:
		v.add("processing.routing", "%q is not allowed; use \"priority\" or \"adaptive\"", p.Routing)
	}
	for i, reason := range p.AutoRefund {
		if !slices.Contains(refundReasons, reason) {
			v.add(fmt.Sprintf("processing.auto_refund[%d]", i), "%q is not a refund reason; use one of: %s", reason, strings.Join(refundReasons, ", "))
		}
	}
}
