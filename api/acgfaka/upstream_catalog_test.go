package acgfaka_test

import (
	"context"
	"encoding/json"
	"testing"

	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/money"
)

// TestConnectShowsTheShopsLiveBalance: saving the upstream in the shop's
// admin shows cardflow's name and the shop's balance as it is now.
func TestConnectShowsTheShopsLiveBalance(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	c, err := r.shop.Connect(ctx)
	if err != nil || c.ShopName != "cardflow" || c.Balance != "0.00" {
		t.Fatalf("connect: %+v, %v", c, err)
	}
	r.TopUp(t, shopID, 250)
	if c, err = r.shop.Connect(ctx); err != nil || c.Balance != "250.00" {
		t.Fatalf("connect after a top-up: %+v, %v", c, err)
	}
	if c, err = r.other.Connect(ctx); err != nil || c.Balance != "0.00" {
		t.Fatalf("the other shop: %+v, %v", c, err)
	}
}

// TestItemsListTheDockedCardProductsAndEachSyncs: the import picker lists
// every docked card product by category, at the wholesale price, with own
// stock or the unlimited value; a direct top-up and an undocked product
// are not listed; each item syncs as a real shop's 同步 does and passes
// acg-faka's importer rules.
func TestItemsListTheDockedCardProductsAndEachSyncs(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3")
	groups, err := r.shop.Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ group, code, name, price, stock string }
	var got []row
	ids := map[string]string{}
	for _, g := range groups {
		ids[g.Name] = g.ID.String()
		for _, it := range g.Children {
			got = append(got, row{g.Name, it.Code, it.Name, it.Price.String(), it.Stock.String()})
		}
	}
	want := []row{
		{"Q币", codeQB, "Q币 10元", "9.50", "3"},
		{"其他", codeSteam, "Steam 20", "19.00", "999999"},
		{"购物卡", codeJD, "京东E卡 50元", "48.00", "0"},
	}
	if len(got) != len(want) {
		t.Fatalf("items %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	again, err := r.other.Items(ctx)
	if err != nil || len(again) != len(groups) {
		t.Fatalf("items again: %v", err)
	}
	for _, g := range again {
		if ids[g.Name] != g.ID.String() || g.ID.String() == "0" {
			t.Errorf("group %s has id %s, then %s", g.Name, ids[g.Name], g.ID)
		}
	}
	for _, code := range []string{codeQB, codeJD, codeSteam} {
		it, err := r.shop.Sync(ctx, code)
		if err != nil {
			t.Errorf("sync %s: %v", code, err)
			continue
		}
		if it.Widget != "[]" || it.Config != "" || it.FactoryPrice.String() != it.Price.String() || it.UserPrice.String() != it.Price.String() {
			t.Errorf("item %s: %+v", code, it)
		}
		checkItem(t, it)
	}
	jd, _ := r.shop.Item(ctx, codeJD)
	if got := string(jd.Raw["description"]); got != `"<p>仅限&lt;自营&gt;商品</p>"` || string(jd.Raw["maximum"]) != "5" {
		t.Errorf("jd-50: description %s, maximum %s", got, jd.Raw["maximum"])
	}
	for _, code := range []string{codeMobile, "9999", "qb-10"} {
		_, err := r.shop.Item(ctx, code)
		refused(t, "item "+code, err, acgfaka.ErrNoItem)
	}
}

// checkItem holds an item as the shop read it to acg-faka's importer
// rules (Item.Check).
func checkItem(t *testing.T, got acgshop.Item) {
	t.Helper()
	var it acgfaka.Item
	raw := make(map[string]json.RawMessage, len(got.Raw))
	for k, v := range got.Raw {
		switch k {
		case "widget", "price", "user_price", "factory_price": // read below
		default:
			raw[k] = v
		}
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &it); err != nil {
		t.Fatalf("item %s: %v", got.Code, err)
	}
	for _, p := range []struct {
		to   *acgfaka.Yuan
		from json.Number
	}{{&it.Price, got.Price}, {&it.UserPrice, got.UserPrice}, {&it.FactoryPrice, got.FactoryPrice}} {
		a, err := money.Parse(p.from.String())
		if err != nil {
			t.Fatalf("item %s: price %s: %v", got.Code, p.from, err)
		}
		*p.to = acgfaka.Yuan(a)
	}
	var widgets []acgfaka.Widget
	if err := json.Unmarshal([]byte(got.Widget), &widgets); err != nil {
		t.Fatalf("widget %q: %v", got.Widget, err)
	}
	it.Widget = widgets
	if err := it.Check(); err != nil {
		t.Error(err)
	}
}

// TestTheMcyPluginAndOlderShopsReadAnItemAsATree: sharedCode asks for the
// item inside its group, as the mcy V3 plugin and older acg-fakas expect.
func TestTheMcyPluginAndOlderShopsReadAnItemAsATree(t *testing.T) {
	r := newRig(t, nil)
	data, err := r.shop.Call(context.Background(), acgfaka.PathItem, []acgfaka.Field{{Name: "sharedCode", Value: codeJD}})
	if err != nil {
		t.Fatal(err)
	}
	var tree []acgshop.Group
	if err := json.Unmarshal(data, &tree); err != nil || len(tree) != 1 || tree[0].Name != "购物卡" ||
		len(tree[0].Children) != 1 || tree[0].Children[0].Code != codeJD {
		t.Fatalf("tree %s: %v", data, err)
	}
}

// TestStockAndValuationAnswerWhatAShopChecksBeforeAnOrder: stock is the
// own stock as a string, unlimited when a supplier can supply, 0 while
// paused; valuation is price × num; inventory and inventoryState answer
// the mcy V3 plugin the same.
func TestStockAndValuationAnswerWhatAShopChecksBeforeAnOrder(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2")
	for code, want := range map[string]string{codeQB: "2", codeJD: "0", codeSteam: "999999"} {
		if got, err := r.shop.Stock(ctx, code, "", nil); err != nil || got != want {
			t.Errorf("stock %s = %q, %v; want %q", code, got, err, want)
		}
	}
	if got, err := r.shop.Valuation(ctx, codeQB, 3, "", nil); err != nil || got != "28.50" {
		t.Errorf("valuation of 3 = %q, %v", got, err)
	}
	_, err := r.shop.Valuation(ctx, codeQB, 11, "", nil)
	refused(t, "valuation of 11 (max_quantity 10)", err, acgfaka.ErrBadNum)
	_, err = r.shop.Stock(ctx, codeMobile, "", nil)
	refused(t, "stock of a top-up", err, acgfaka.ErrNoItem)

	data, err := r.shop.Call(ctx, acgfaka.PathInventory, []acgfaka.Field{{Name: "sharedCode", Value: codeQB}, {Name: "race", Value: ""}})
	if err != nil || string(data) != `{"count":2,"delivery_way":0,"draft_status":0,"price":9.50,"user_price":9.50,"config":"","factory_price":9.50,"is_category":false}` {
		t.Errorf("inventory: %s, %v", data, err)
	}
	state := func(num string) error {
		_, err := r.shop.Call(ctx, acgfaka.PathInventoryState, []acgfaka.Field{{Name: "shared_code", Value: codeQB}, {Name: "num", Value: num}, {Name: "race", Value: ""}})
		return err
	}
	if err := state("2"); err != nil {
		t.Errorf("inventoryState of 2: %v", err)
	}
	refused(t, "inventoryState of 3", state("3"), acgfaka.ErrSoldOut)

	if err := r.Engine.Pause(dockingtest.Operator, "qb-10"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.shop.Stock(ctx, codeQB, "", nil); err != nil || got != "0" {
		t.Errorf("stock while paused = %q, %v", got, err)
	}
}
