package config

import (
	"strings"
	"testing"
	"time"
)

// TestADockingShopAndItsProductsLoad: an acg-faka shop needs no
// callback_url (it is answered in the request), a Dujiao-Next shop keeps
// its credit limit, a product offered to them carries its id, price and
// text, and a direct top-up gets the default account label.
func TestADockingShopAndItsProductsLoad(t *testing.T) {
	src := readTestdata(t, "valid.toml") + `
[[storefronts]]
id = "cardflow-acg1"
protocol = "acg-faka"
secret = "0123456789abcdef-acg1"

[[storefronts]]
id = "cardflow-dj1"
protocol = "dujiao-next"
secret = "0123456789abcdef-dj1"
callback_url = "https://dj.example.com/api/v1/upstream/callback"
credit_limit = "200"

[[suppliers]]
name = "sim"
type = "sim"

[[products]]
sku = "qb-direct-10"
kind = "direct"
id = 2001
price = "9.80"
category = "Q币"
description = "十元直充"
  [[products.sources]]
  supplier = "sim"
  item = "qb-10"
`
	c, err := Load(writeConfig(t, src, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Storefronts[0]; s.Protocol != ProtocolCardflow || s.Docking() {
		t.Errorf("a storefront without protocol: %q, docking %v; want cardflow, not docking", s.Protocol, s.Docking())
	}
	if s := c.Storefronts[1]; !s.Docking() || s.CallbackURL != "" || s.SyncWindow.Std() != 8*time.Second ||
		s.ClaimPeriod.Std() != 24*time.Hour {
		t.Errorf("acg-faka shop: docking %v, callback %q, sync_window %s, claim_period %s", s.Docking(), s.CallbackURL,
			s.SyncWindow, s.ClaimPeriod)
	}
	if s := c.Storefronts[2]; s.CreditLimit != 20000 {
		t.Errorf("credit_limit = %s, want 200.00", s.CreditLimit)
	}
	p := c.Products[1]
	if !p.Docked() || p.ID != 2001 || p.Price != 980 || p.Category != "Q币" || p.AccountLabel != DefaultAccountLabel {
		t.Errorf("docked product = %+v", p)
	}
	if c.Products[0].Docked() {
		t.Errorf("a product without an id is offered to docking shops")
	}
}

// TestADirectTopUpForDockingShopsNeedsAShortAccountLabel: an account label
// set empty or longer than 64 bytes is refused.
func TestADirectTopUpForDockingShopsNeedsAShortAccountLabel(t *testing.T) {
	for _, label := range []string{`""`, `"` + strings.Repeat("账", 22) + `"`} {
		src := readTestdata(t, "valid.toml") + `
[[suppliers]]
name = "sim"
type = "sim"

[[products]]
sku = "qb-direct-10"
kind = "direct"
id = 2001
price = "9.80"
account_label = ` + label + `
  [[products.sources]]
  supplier = "sim"
  item = "qb-10"
`
		ps := loadProblems(t, writeConfig(t, src, nil))
		if !strings.Contains(ps.Error(), "products[1].account_label") {
			t.Errorf("account_label = %s: %v", label, ps)
		}
	}
}
